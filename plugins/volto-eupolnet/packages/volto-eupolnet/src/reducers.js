import { GET_EUPOLNET_LIST, GET_EUPOLNET_SETTINGS } from './actions';

const initialSettings = { loaded: false, loading: false, error: null, data: null };

/** state.eupolnetSettings: what GET @eupolnet-settings answered (or why it did not). */
export function eupolnetSettings(state = initialSettings, action = {}) {
  switch (action.type) {
    case `${GET_EUPOLNET_SETTINGS}_PENDING`:
      return { ...state, loading: true, error: null };
    case `${GET_EUPOLNET_SETTINGS}_SUCCESS`:
      return { loaded: true, loading: false, error: null, data: action.result };
    case `${GET_EUPOLNET_SETTINGS}_FAIL`:
      return { loaded: false, loading: false, error: action.error, data: null };
    default:
      return state;
  }
}

/** state.eupolnetLists.events / .publications: `{loading, loaded, error, items}`. */
export function eupolnetLists(state = {}, action = {}) {
  switch (action.type) {
    case `${GET_EUPOLNET_LIST}_PENDING`:
      return { ...state, [action.list]: { loading: true, loaded: false, error: null, items: null } };
    case `${GET_EUPOLNET_LIST}_SUCCESS`:
      return {
        ...state,
        [action.list]: { loading: false, loaded: true, error: null, items: action.result.items },
      };
    case `${GET_EUPOLNET_LIST}_FAIL`:
      return { ...state, [action.list]: { loading: false, loaded: false, error: action.error, items: [] } };
    default:
      return state;
  }
}
