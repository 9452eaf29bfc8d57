// Volto's Babel configuration (loadable components, react-intl, ...), as Volto projects use it.
module.exports = require('@plone/volto/babel');
