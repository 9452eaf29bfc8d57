/* Helpers of the unit tests: the components rendered with Volto's providers (redux, intl),
 * with what the backend answered (settings, the services' lists) already in the store. */
import React from 'react';
import { render } from '@testing-library/react';
import { IntlProvider } from 'react-intl';
import { Provider } from 'react-redux';
import { combineReducers, createStore } from 'redux';
import { eupolnetLists, eupolnetSettings } from './reducers';

export const EVENTS = [
  {
    slug: 'police-academy-lisbon',
    kind: 'academy',
    title: { en: 'Police academy in Lisbon', fr: 'Académie de police à Lisbonne' },
    starts_at: '2026-06-12T09:00:00+01:00',
    ends_at: '2026-06-14T17:00:00+01:00',
    timezone: 'Europe/Lisbon',
    venue: 'Câmara Municipal de Lisboa',
    online: false,
  },
  {
    slug: 'webconference-cctv',
    kind: 'webconference',
    title: { en: 'Web conference: CCTV and privacy' },
    // 00:30 in Paris is still the day before in UTC: the date shown is Paris's.
    starts_at: '2026-06-20T00:30:00+02:00',
    ends_at: '2026-06-20T02:30:00+02:00',
    timezone: 'Europe/Paris',
    venue: null,
    online: true,
  },
];
export const PUBLICATIONS = [
  { slug: 'safer-cities-guide', title: { en: 'Guide to Safer Cities', fr: 'Guide des villes plus sûres' } },
];

export const SERVICE_URL = 'https://events.example.org';

/** What the backend's @eupolnet-settings gives. */
export const SETTINGS = {
  registration_url: SERVICE_URL,
  orders_url: 'https://orders.example.org',
  default_language: 'en',
  languages: ['de', 'en', 'es', 'fr', 'it', 'pt'],
  contact_email: 'eupolnet@efus.eu',
};

const loaded = (items) => ({ loading: false, loaded: true, error: null, items });
export const DOWN = { loading: false, loaded: false, error: { status: 503 }, items: [] };

/** Render `ui` as Volto would, with the settings read (or failed, if null) and the lists
 * of @eupolnet-events and @eupolnet-publications (each may be DOWN). */
export function renderWithSettings(ui, { settings = SETTINGS, lists = {}, locale = 'en' } = {}) {
  const settingsState = settings
    ? { loaded: true, loading: false, error: null, data: settings }
    : { loaded: false, loading: false, error: { status: 503 }, data: null };
  const listsState = { events: loaded(EVENTS), publications: loaded(PUBLICATIONS), ...lists };
  const store = createStore(
    combineReducers({ eupolnetSettings, eupolnetLists, intl: (state = { locale }) => state }),
    { eupolnetSettings: settingsState, eupolnetLists: listsState },
  );
  return render(
    <Provider store={store}>
      <IntlProvider locale={locale} messages={{}} onError={() => {}}>
        {ui}
      </IntlProvider>
    </Provider>,
  );
}
