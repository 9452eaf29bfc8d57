import { useEffect } from 'react';
import { useDispatch, useSelector } from 'react-redux';
import { getEupolnetList, getEupolnetSettings } from './actions';

/** The control panel's settings: `{settings, failed}`, read once per visit. */
export function useEupolnetSettings() {
  const dispatch = useDispatch();
  const state = useSelector((s) => s.eupolnetSettings);
  useEffect(() => {
    if (!state.loaded && !state.loading && !state.error) {
      dispatch(getEupolnetSettings());
    }
  }, [dispatch, state.loaded, state.loading, state.error]);
  return { settings: state.data, failed: Boolean(state.error) };
}

/** A service's public list (`events` or `publications`): `{items, failed}`; `items` is null
 * while it loads. Read once per visit: a failure is shown, not retried in a loop. */
export function useEupolnetList(list) {
  const dispatch = useDispatch();
  const state = useSelector((s) => s.eupolnetLists?.[list]);
  useEffect(() => {
    if (!state) dispatch(getEupolnetList(list));
  }, [dispatch, list, state]);
  return { items: state?.items ?? null, failed: Boolean(state?.error) };
}

/** The language of the page being shown or edited (Plone's `language` field), if any. */
export function usePageLanguage(properties) {
  const locale = useSelector((s) => s.intl?.locale);
  return properties?.language?.token || properties?.language || locale;
}
