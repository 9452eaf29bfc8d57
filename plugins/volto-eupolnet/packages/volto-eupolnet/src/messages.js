import { defineMessages } from 'react-intl';

// Every text of the add-on; translations in ../locales/<language>/LC_MESSAGES/volto.po.
export default defineMessages({
  registrationForm: {
    id: 'EU-POLNET registration form',
    defaultMessage: 'EU-POLNET registration form',
  },
  publicationOrder: {
    id: 'EU-POLNET publication order',
    defaultMessage: 'EU-POLNET publication order',
  },
  upcomingEvents: {
    id: 'Upcoming EU-POLNET events',
    defaultMessage: 'Upcoming EU-POLNET events',
  },
  chooseEvent: {
    id: 'Event',
    defaultMessage: 'Event',
  },
  choosePublication: {
    id: 'Publication',
    defaultMessage: 'Publication',
  },
  searchHint: {
    id: 'Type part of the title, then choose with the arrow keys and Enter.',
    defaultMessage:
      'Type part of the title, then choose with the arrow keys and Enter.',
  },
  noMatch: {
    id: 'Nothing matches.',
    defaultMessage: 'Nothing matches.',
  },
  loading: {
    id: 'Loading…',
    defaultMessage: 'Loading…',
  },
  chosen: {
    id: 'Chosen: {title}',
    defaultMessage: 'Chosen: {title}',
  },
  nothingChosen: {
    id: 'Choose an event in the field above; visitors will see its form here.',
    defaultMessage:
      'Choose an event in the field above; visitors will see its form here.',
  },
  nothingChosenPublication: {
    id: 'Choose a publication in the field above; visitors will see its order form here.',
    defaultMessage:
      'Choose a publication in the field above; visitors will see its order form here.',
  },
  unavailable: {
    id: 'The EU-POLNET services cannot be reached right now. Please try again later, or write to {email}.',
    defaultMessage:
      'The EU-POLNET services cannot be reached right now. Please try again later, or write to {email}.',
  },
  unavailableNoContact: {
    id: 'The EU-POLNET services cannot be reached right now. Please try again later.',
    defaultMessage:
      'The EU-POLNET services cannot be reached right now. Please try again later.',
  },
  unavailableEditor: {
    id: 'The list cannot be read from the EU-POLNET service right now. The page can still be saved; the choice already made is kept.',
    defaultMessage:
      'The list cannot be read from the EU-POLNET service right now. The page can still be saved; the choice already made is kept.',
  },
  kind: {
    id: 'Kind of event',
    defaultMessage: 'Kind of event',
  },
  allKinds: {
    id: 'All kinds',
    defaultMessage: 'All kinds',
  },
  noEvents: {
    id: 'No upcoming events.',
    defaultMessage: 'No upcoming events.',
  },
  online: {
    id: 'Online',
    defaultMessage: 'Online',
  },
  webconference: {
    id: 'Web conference',
    defaultMessage: 'Web conference',
  },
  academy: {
    id: 'Police academy',
    defaultMessage: 'Police academy',
  },
  assembly: {
    id: 'General assembly',
    defaultMessage: 'General assembly',
  },
  conference: {
    id: 'Conference',
    defaultMessage: 'Conference',
  },
});
