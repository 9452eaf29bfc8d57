export const GET_EUPOLNET_SETTINGS = 'GET_EUPOLNET_SETTINGS';
export const GET_EUPOLNET_LIST = 'GET_EUPOLNET_LIST';

/** The control panel's public settings, from the eupolnet.plone add-on of the backend. */
export function getEupolnetSettings() {
  return {
    type: GET_EUPOLNET_SETTINGS,
    request: { op: 'get', path: '/@eupolnet-settings' },
  };
}

/**
 * A service's public list (`events` or `publications`), as the backend reads it from the
 * service (the services let other origins' browsers read their forms, not their lists).
 */
export function getEupolnetList(list) {
  return {
    type: GET_EUPOLNET_LIST,
    list,
    request: { op: 'get', path: `/@eupolnet-${list}` },
  };
}
