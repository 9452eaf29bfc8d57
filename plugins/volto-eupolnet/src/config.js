// The test site's own configuration: nothing beyond the add-ons of volto.config.js.
export default function applyConfig(config) {
  return config;
}
