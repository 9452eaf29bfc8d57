"""EU-POLNET forms in Plone: the embed snippet, placed by editors without writing HTML."""
from zope.i18nmessageid import MessageFactory

_ = MessageFactory("eupolnet.plone")
