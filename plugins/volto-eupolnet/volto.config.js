// The add-ons of the test site (see @plone/registry).
module.exports = {
  addons: ['@eupolnet/volto-eupolnet'],
};
