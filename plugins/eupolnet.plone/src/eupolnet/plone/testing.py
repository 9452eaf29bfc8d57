"""plone.app.testing layers: a Plone site (in memory, no server) with the add-on installed.

Used by tests/integration, which run in the Plone virtualenv and need no browser and none of
the EU-POLNET services.
"""
from plone.app.testing import PLONE_FIXTURE, IntegrationTesting, PloneSandboxLayer, applyProfile


class EupolnetLayer(PloneSandboxLayer):
    defaultBases = (PLONE_FIXTURE,)

    def setUpZope(self, app, configurationContext):
        import plone.restapi

        import eupolnet.plone

        self.loadZCML(package=plone.restapi)
        self.loadZCML(package=eupolnet.plone)

    def setUpPloneSite(self, portal):
        applyProfile(portal, "eupolnet.plone:default")


EUPOLNET_FIXTURE = EupolnetLayer()
INTEGRATION_TESTING = IntegrationTesting(bases=(EUPOLNET_FIXTURE,), name="EupolnetLayer:Integration")
