// The build of the test site is Volto's own razzle configuration, run from this folder: an
// npm project with @plone/volto in node_modules (Volto's projects before the pnpm workspace
// layout). Volto's own entry points, routes, reducers and theme; this folder only adds
// src/config.js (empty) and locales/ (the languages the site is built with: the add-ons'
// translations are merged into them).
const path = require('path');
const volto = require('@plone/volto/razzle.config');

const voltoRoot = path.join(__dirname, 'node_modules', '@plone', 'volto');
const voltoSrc = path.join(voltoRoot, 'src');

module.exports = {
  ...volto,
  modifyPaths: ({ paths }) => ({
    ...paths,
    appServerJs: path.join(voltoSrc, 'server'),
    appServerIndexJs: voltoSrc,
    appClientIndexJs: path.join(voltoSrc, 'client'),
  }),
  modifyWebpackConfig: (options) => {
    const config = volto.modifyWebpackConfig(options);
    config.resolve.alias = {
      '@root/reducers': path.join(voltoSrc, 'reducers'),
      '@root/routes': path.join(voltoSrc, 'routes'),
      '@root/theme': path.join(voltoSrc, 'theme'),
      ...config.resolve.alias,
      // Volto's default theme (Pastanaga), as Volto builds itself.
      '../../theme.config$': path.join(voltoRoot, 'theme', 'theme.config'),
    };
    return config;
  },
};
