"""Integration tests of the add-on in an in-memory Plone site (plone.app.testing layers, run by
pytest through zope.pytestlayer). Run in the Plone virtualenv, from the repository root:

    var/plone-venv/bin/python -m pytest plugins/eupolnet.plone/tests/integration

They import nothing of the EU-POLNET project: the add-on is released on its own.
"""
