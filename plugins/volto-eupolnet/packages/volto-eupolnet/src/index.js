/* @eupolnet/volto-eupolnet: the EU-POLNET forms and events in Volto pages.
 *
 * Needs the eupolnet.plone add-on installed in the Plone backend: its control panel (also in
 * Volto's site setup) holds the service URLs, which the blocks read from GET @eupolnet-settings;
 * the services' lists come through the backend too (GET @eupolnet-events, @eupolnet-publications). */
import calendarSVG from '@plone/volto/icons/calendar.svg';
import formSVG from '@plone/volto/icons/form.svg';
import bookSVG from '@plone/volto/icons/book.svg';
import { FormBlockEdit, FormBlockView } from './components/FormBlock';
import {
  UpcomingEventsEdit,
  UpcomingEventsView,
} from './components/UpcomingEvents';
import { eupolnetLists, eupolnetSettings } from './reducers';
import './theme/eupolnet.css';

const eventForm = (Component) => (props) => <Component kind="event" {...props} />;
const publicationForm = (Component) => (props) => (
  <Component kind="publication" {...props} />
);

const BLOCKS = {
  eupolnetRegistrationForm: {
    title: 'EU-POLNET registration form',
    icon: formSVG,
    view: eventForm(FormBlockView),
    edit: eventForm(FormBlockEdit),
  },
  eupolnetPublicationOrder: {
    title: 'EU-POLNET publication order',
    icon: bookSVG,
    view: publicationForm(FormBlockView),
    edit: publicationForm(FormBlockEdit),
  },
  eupolnetUpcomingEvents: {
    title: 'Upcoming EU-POLNET events',
    icon: calendarSVG,
    view: UpcomingEventsView,
    edit: UpcomingEventsEdit,
  },
};

export default function applyConfig(config) {
  for (const [id, block] of Object.entries(BLOCKS)) {
    config.blocks.blocksConfig[id] = {
      id,
      group: 'common',
      restricted: false,
      mostUsed: false,
      sidebarTab: 0,
      ...block,
    };
  }
  config.addonReducers = { ...config.addonReducers, eupolnetSettings, eupolnetLists };
  return config;
}
