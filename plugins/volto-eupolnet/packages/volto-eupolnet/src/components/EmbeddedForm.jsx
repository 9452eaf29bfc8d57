import React, { useEffect, useState } from 'react';
import ServiceMessage from './ServiceMessage';

/**
 * Loads the registration service's embed.js once per page, then asks it to mount the forms
 * that are on the page (also those added after the script ran, as Volto renders blocks
 * while visitors navigate). Rejects when the script cannot be loaded.
 */
const loaded = {}; // embed.js address -> the promise of its loading

export function loadEmbed(registrationUrl) {
  const src = `${registrationUrl}/embed.js`;
  if (loaded[src]) {
    return loaded[src].then(() => window.eupolnetEmbed.start());
  }
  loaded[src] = new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.async = true;
    script.onload = () => resolve(); // embed.js mounts every form of the page by itself
    script.onerror = () => {
      script.remove();
      delete loaded[src]; // the next page view tries again
      reject(new Error(`${src} cannot be loaded`));
    };
    document.body.appendChild(script);
  });
  return loaded[src];
}

/**
 * The form an editor placed: an element embed.js fills in (in a shadow root, with its own
 * labels, error summary, focus handling and keyboard use), as on any CMS page. Without
 * JavaScript, visitors follow the link to the service's own form.
 */
export default function EmbeddedForm({ kind, slug, lang, settings }) {
  const [failed, setFailed] = useState(false);
  const registrationUrl = settings.registration_url;
  useEffect(() => {
    let current = true;
    setFailed(false);
    loadEmbed(registrationUrl).catch(() => current && setFailed(true));
    return () => {
      current = false;
    };
  }, [registrationUrl, kind, slug, lang]);

  if (failed) return <ServiceMessage settings={settings} />;
  const target =
    kind === 'event'
      ? { 'data-eupolnet-event': slug }
      : {
          'data-eupolnet-publication': slug,
          'data-orders-url': settings.orders_url,
        };
  // A new key when the choice changes: embed.js mounts a fresh element once.
  return (
    <div className="eupolnet-form">
      <div key={`${kind}-${slug}-${lang}`} {...target} data-lang={lang} />
      {kind === 'event' && (
        <noscript>
          <a href={`${registrationUrl}/events/${slug}/register?lang=${lang}`}>
            Register / S'inscrire
          </a>
        </noscript>
      )}
    </div>
  );
}
