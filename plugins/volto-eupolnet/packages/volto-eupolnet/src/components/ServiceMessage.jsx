import React from 'react';
import { useIntl } from 'react-intl';
import messages from '../messages';

/** Shown instead of a form or a list when a service (or the settings) cannot be read. */
export default function ServiceMessage({ settings }) {
  const intl = useIntl();
  const email = settings?.contact_email;
  return (
    <p role="status" className="eupolnet-unavailable">
      {email
        ? intl.formatMessage(messages.unavailable, {
            email: <a href={`mailto:${email}`}>{email}</a>,
          })
        : intl.formatMessage(messages.unavailableNoContact)}
    </p>
  );
}
