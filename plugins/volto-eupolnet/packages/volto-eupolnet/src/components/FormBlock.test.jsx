import React from 'react';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { FormBlockEdit, FormBlockView } from './FormBlock';
import { DOWN, SERVICE_URL, SETTINGS, renderWithSettings } from '../testing';

afterEach(() => document.querySelectorAll('script').forEach((s) => s.remove()));


describe('FormBlockEdit', () => {
  it('lets the editor search the events as they type and choose one with the keyboard', async () => {
    const onChangeBlock = vi.fn();
    renderWithSettings(
      <FormBlockEdit kind="event" block="b1" data={{}} onChangeBlock={onChangeBlock} />,
      { locale: 'fr' },
    );
    const input = await screen.findByRole('combobox', { name: 'Event' });
    fireEvent.change(input, { target: { value: 'lisb' } });
    const options = screen.getAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual(['Académie de police à Lisbonne']);
    fireEvent.keyDown(input, { key: 'ArrowDown' });
    fireEvent.keyDown(input, { key: 'ArrowUp' });
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(onChangeBlock).toHaveBeenCalledWith('b1', {
      slug: 'police-academy-lisbon',
      title: 'Académie de police à Lisbonne',
    });
  });

  it('offers the publications of the orders service', async () => {
    renderWithSettings(
      <FormBlockEdit kind="publication" block="b2" data={{}} onChangeBlock={vi.fn()} />,
      {},
    );
    const input = await screen.findByRole('combobox', { name: 'Publication' });
    fireEvent.focus(input);
    expect(screen.getAllByRole('option').map((o) => o.textContent)).toEqual(['Guide to Safer Cities']);
    expect(screen.getByText(/visitors will see its order form here/)).toBeInTheDocument();
  });

  it('keeps the choice already made and says why the list is missing when the service is down', async () => {
    renderWithSettings(
      <FormBlockEdit
        kind="event"
        block="b1"
        data={{ slug: 'police-academy-lisbon', title: 'Police academy in Lisbon' }}
        onChangeBlock={vi.fn()}
      />,
      { lists: { events: DOWN } },
    );
    expect(await screen.findByText(/The page can still be saved/)).toHaveAttribute('role', 'status');
    expect(screen.getByText('Chosen: Police academy in Lisbon')).toBeInTheDocument();
  });
});

describe('FormBlockView', () => {
  it('places the element embed.js fills in, in the page language, and loads embed.js once', () => {
    const { container } = renderWithSettings(
      <>
        <FormBlockView kind="event" data={{ slug: 'police-academy-lisbon' }} properties={{ language: { token: 'fr' } }} />
        <FormBlockView kind="publication" data={{ slug: 'safer-cities-guide', language: 'pt' }} />
      </>,
      {},
    );
    expect(container.querySelector('[data-eupolnet-event="police-academy-lisbon"]')).toHaveAttribute('data-lang', 'fr');
    const publication = container.querySelector('[data-eupolnet-publication="safer-cities-guide"]');
    expect(publication).toHaveAttribute('data-lang', 'pt');
    expect(publication).toHaveAttribute('data-orders-url', SETTINGS.orders_url);
    expect([...document.querySelectorAll('script')].map((s) => s.src)).toEqual([`${SERVICE_URL}/embed.js`]);
  });

  it('shows the message with the contact address when embed.js cannot be loaded', async () => {
    const down = 'https://down.example.org';
    renderWithSettings(<FormBlockView kind="event" data={{ slug: 'police-academy-lisbon' }} />, {
      settings: { ...SETTINGS, registration_url: down },
    });
    const script = document.querySelector(`script[src="${down}/embed.js"]`);
    script.dispatchEvent(new Event('error')); // jsdom loads no scripts: the browser test loads the real one
    const message = await screen.findByRole('status');
    expect(message).toHaveTextContent('The EU-POLNET services cannot be reached right now');
    expect(screen.getByRole('link', { name: 'eupolnet@efus.eu' })).toHaveAttribute('href', 'mailto:eupolnet@efus.eu');
  });

  it('shows nothing before the editor chose, and a message when the settings cannot be read', async () => {
    const { container } = renderWithSettings(<FormBlockView kind="event" data={{}} />, {});
    expect(container).toBeEmptyDOMElement();
    renderWithSettings(<FormBlockView kind="event" data={{ slug: 'x' }} />, { settings: null });
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Please try again later.'));
  });
});
