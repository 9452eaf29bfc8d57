import React from 'react';
import { fireEvent, screen, within } from '@testing-library/react';
import { UpcomingEventsEdit, UpcomingEventsView } from './UpcomingEvents';
import { DOWN, SERVICE_URL, SETTINGS, renderWithSettings } from '../testing';


describe('UpcomingEventsView', () => {
  it('lists the events with their dates in their own time zone and links to their forms', async () => {
    renderWithSettings(<UpcomingEventsView data={{}} />, {});
    const list = await screen.findByRole('list');
    const items = within(list).getAllByRole('listitem');
    expect(items.map((item) => item.querySelector('.eupolnet-event-title').textContent)).toEqual([
      'Police academy in Lisbon',
      'Web conference: CCTV and privacy',
    ]);
    expect(items[0]).toHaveTextContent('Police academy · June 12, 2026 – June 14, 2026 · Câmara Municipal de Lisboa');
    expect(items[1]).toHaveTextContent('June 20, 2026'); // June 19 in UTC
    expect(items[1]).toHaveTextContent('Online');
    expect(screen.getByRole('link', { name: 'Web conference: CCTV and privacy' })).toHaveAttribute(
      'href',
      `${SERVICE_URL}/events/webconference-cctv/register?lang=en`,
    );
    expect(screen.getByRole('region', { name: 'Upcoming EU-POLNET events' })).toBeInTheDocument();
  });

  it('keeps one kind of event, in the language of the page', async () => {
    renderWithSettings(<UpcomingEventsView data={{ kind: 'academy' }} properties={{ language: { token: 'fr' } }} />, {});
    const list = await screen.findByRole('list');
    expect(within(list).getAllByRole('listitem')).toHaveLength(1);
    expect(within(list).getByRole('link')).toHaveTextContent('Académie de police à Lisbonne');
    expect(within(list).getByRole('listitem')).toHaveTextContent('12 juin 2026 – 14 juin 2026');
  });

  it('shows the message with the contact address when the registration service is down', async () => {
    renderWithSettings(<UpcomingEventsView data={{}} />, { lists: { events: DOWN } });
    expect(await screen.findByText(/cannot be reached right now/)).toHaveAttribute('role', 'status');
    expect(screen.getByRole('link', { name: 'eupolnet@efus.eu' })).toBeInTheDocument();
  });
});

describe('UpcomingEventsEdit', () => {
  it('lets the editor choose the kind of events', async () => {
    const onChangeBlock = vi.fn();
    renderWithSettings(<UpcomingEventsEdit block="b3" data={{}} onChangeBlock={onChangeBlock} />, {});
    await screen.findByRole('list');
    fireEvent.change(screen.getByLabelText('Kind of event'), { target: { value: 'webconference' } });
    expect(onChangeBlock).toHaveBeenCalledWith('b3', { kind: 'webconference' });
  });
});
