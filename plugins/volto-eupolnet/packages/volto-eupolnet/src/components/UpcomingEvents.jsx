/* The "Upcoming EU-POLNET events" block: the events of the registration service, of one kind
 * or all, with their dates in each event's own time zone; it replaces the Classic portlet. */
import React, { useId } from 'react';
import { useIntl } from 'react-intl';
import messages from '../messages';
import { KINDS, eventDates, formLanguage, pickText } from '../api';
import {
  useEupolnetList,
  useEupolnetSettings,
  usePageLanguage,
} from '../hooks';
import ServiceMessage from './ServiceMessage';

const kindLabel = (intl, kind) =>
  messages[kind] ? intl.formatMessage(messages[kind]) : kind;

export function UpcomingEventsView({ data, properties }) {
  const intl = useIntl();
  const headingId = useId();
  const { settings, failed: noSettings } = useEupolnetSettings();
  const lang = formLanguage(data.language, usePageLanguage(properties), settings);
  const { items, failed } = useEupolnetList('events');
  const events = (items || []).filter((event) => !data.kind || event.kind === data.kind);
  let body;
  if (noSettings || failed) body = <ServiceMessage settings={settings} />;
  else if (items === null || !settings) body = <p role="status">{intl.formatMessage(messages.loading)}</p>;
  else if (events.length === 0) body = <p>{intl.formatMessage(messages.noEvents)}</p>;
  else
    body = (
      <ul>
        {events.map((event) => (
          <li key={event.slug} className="eupolnet-event" lang={lang}>
            <a
              className="eupolnet-event-title"
              href={`${settings.registration_url}/events/${event.slug}/register?lang=${lang}`}
            >
              {pickText(event.title, lang, event.slug)}
            </a>
            {' '}
            <span className="eupolnet-event-meta">
              <span className="eupolnet-event-kind">{kindLabel(intl, event.kind)}</span>
              {' · '}
              <span className="eupolnet-event-dates">{eventDates(event, lang)}</span>
              {' · '}
              <span className="eupolnet-event-place">
                {event.online ? intl.formatMessage(messages.online) : event.venue}
              </span>
            </span>
          </li>
        ))}
      </ul>
    );
  return (
    <section className="eupolnet-events" aria-labelledby={headingId}>
      <h2 id={headingId}>{intl.formatMessage(messages.upcomingEvents)}</h2>
      {body}
    </section>
  );
}

/** The editor chooses the kind of events above the list, which shows as visitors see it. */
export function UpcomingEventsEdit(props) {
  const { data, block, onChangeBlock } = props;
  const intl = useIntl();
  const id = useId();
  return (
    <div className="eupolnet-block-edit eupolnet-events-edit">
      <label htmlFor={id}>{intl.formatMessage(messages.kind)}</label>{' '}
      <select
        id={id}
        value={data.kind || ''}
        onChange={(event) => onChangeBlock(block, { ...data, kind: event.target.value })}
        onKeyDown={(event) => event.stopPropagation()} // arrow keys choose, not move between blocks
      >
        <option value="">{intl.formatMessage(messages.allKinds)}</option>
        {KINDS.map((kind) => (
          <option key={kind} value={kind}>
            {kindLabel(intl, kind)}
          </option>
        ))}
      </select>
      <UpcomingEventsView {...props} />
    </div>
  );
}
