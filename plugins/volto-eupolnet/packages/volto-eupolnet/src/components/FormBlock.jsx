/* The registration form block and the publication order block: the same pattern for an
 * event (registration service) and a publication (orders service). */
import React from 'react';
import { useIntl } from 'react-intl';
import messages from '../messages';
import { formLanguage, pickText } from '../api';
import {
  useEupolnetList,
  useEupolnetSettings,
  usePageLanguage,
} from '../hooks';
import EmbeddedForm from './EmbeddedForm';
import ItemPicker from './ItemPicker';
import ServiceMessage from './ServiceMessage';

const KINDS = {
  event: {
    list: 'events',
    title: messages.registrationForm,
    field: messages.chooseEvent,
    empty: messages.nothingChosen,
  },
  publication: {
    list: 'publications',
    title: messages.publicationOrder,
    field: messages.choosePublication,
    empty: messages.nothingChosenPublication,
  },
};

/** What visitors see: the embedded form (nothing until the editor chose one). */
export function FormBlockView({ kind, data, properties }) {
  const { settings, failed } = useEupolnetSettings();
  const lang = formLanguage(data.language, usePageLanguage(properties), settings);
  if (!data.slug) return null;
  if (failed) return <ServiceMessage />;
  if (!settings) return null; // for the instant the settings are read
  return (
    <EmbeddedForm kind={kind} slug={data.slug} lang={lang} settings={settings} />
  );
}

/**
 * What editors see: the search-as-you-type choice, fed by the service's public list. The
 * title is kept with the choice, so that the block still says what it shows (and the page
 * still saves) when the service cannot be reached.
 */
export function FormBlockEdit({ kind, data, block, onChangeBlock, properties }) {
  const intl = useIntl();
  const texts = KINDS[kind];
  const { settings, failed: noSettings } = useEupolnetSettings();
  const lang = formLanguage(data.language, usePageLanguage(properties), settings);
  const { items, failed } = useEupolnetList(texts.list);
  const choices = (items || [])
    .filter((item) => item.slug)
    .map((item) => ({ value: item.slug, label: pickText(item.title, lang, item.slug) }));
  if (data.slug && !choices.some((choice) => choice.value === data.slug)) {
    choices.unshift({ value: data.slug, label: data.title || data.slug });
  }
  const onChange = (slug) =>
    onChangeBlock(block, {
      ...data,
      slug,
      title: choices.find((choice) => choice.value === slug)?.label || slug,
    });

  return (
    <div className={`eupolnet-block-edit eupolnet-${kind}-edit`}>
      <p className="eupolnet-block-title">{intl.formatMessage(texts.title)}</p>
      {(failed || noSettings) && (
        <p role="status" className="eupolnet-unavailable">
          {intl.formatMessage(messages.unavailableEditor)}
        </p>
      )}
      {items === null ? (
        <p role="status">{intl.formatMessage(messages.loading)}</p>
      ) : (
        <ItemPicker
          label={intl.formatMessage(texts.field)}
          items={choices}
          value={data.slug}
          onChange={onChange}
        />
      )}
      {!data.slug && <p>{intl.formatMessage(texts.empty)}</p>}
    </div>
  );
}
