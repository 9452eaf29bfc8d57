import React, { useId, useState } from 'react';
import { useIntl } from 'react-intl';
import messages from '../messages';

/**
 * A search-as-you-type select (an ARIA combobox): the editor types part of a title, the
 * list narrows, arrow keys move, Enter or a click chooses. `items` are `{value, label}`.
 */
export default function ItemPicker({ label, items, value, onChange }) {
  const intl = useIntl();
  const id = useId();
  const chosen = items.find((item) => item.value === value);
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const matches = items.filter((item) =>
    item.label.toLowerCase().includes(query.trim().toLowerCase()),
  );

  const choose = (item) => {
    onChange(item.value);
    setQuery('');
    setOpen(false);
  };
  const onKeyDown = (event) => {
    // Volto's block editor moves between blocks on arrow keys and adds one on Enter: keys
    // typed in the field are the field's.
    event.stopPropagation();
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      setOpen(true);
      const step = event.key === 'ArrowDown' ? 1 : -1;
      setActive((active + step + matches.length) % Math.max(matches.length, 1));
    } else if (event.key === 'Enter' && open && matches[active]) {
      event.preventDefault();
      choose(matches[active]);
    } else if (event.key === 'Escape') {
      setOpen(false);
    }
  };

  return (
    <div className="eupolnet-picker">
      <label htmlFor={`${id}-input`}>{label}</label>
      <input
        id={`${id}-input`}
        type="text"
        role="combobox"
        autoComplete="off"
        aria-autocomplete="list"
        aria-expanded={open}
        aria-controls={`${id}-list`}
        aria-describedby={`${id}-hint`}
        aria-activedescendant={
          open && matches[active] ? `${id}-option-${active}` : undefined
        }
        value={query}
        placeholder={chosen?.label || ''}
        onChange={(event) => {
          setQuery(event.target.value);
          setActive(0);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onKeyDown={onKeyDown}
      />
      <p id={`${id}-hint`} className="eupolnet-hint">
        {intl.formatMessage(messages.searchHint)}
      </p>
      <ul
        id={`${id}-list`}
        role="listbox"
        aria-label={label}
        hidden={!open}
        className="eupolnet-options"
      >
        {matches.map((item, index) => (
          // eslint-disable-next-line jsx-a11y/click-events-have-key-events
          <li
            key={item.value}
            id={`${id}-option-${index}`}
            role="option"
            aria-selected={item.value === value}
            className={index === active ? 'active' : undefined}
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => choose(item)}
          >
            {item.label}
          </li>
        ))}
        {matches.length === 0 && (
          <li role="option" aria-disabled="true" aria-selected="false">
            {intl.formatMessage(messages.noMatch)}
          </li>
        )}
      </ul>
      {chosen && (
        <p className="eupolnet-chosen">
          {intl.formatMessage(messages.chosen, { title: chosen.label })}
        </p>
      )}
    </div>
  );
}
