import { isIP } from 'node:net';
import type { AddressPolicy } from '../net/address-policy.js';

/**
 * Why a webhook URL is refused at registration, or null. Only what the URL itself says is checked
 * here (scheme, credentials, literal addresses); names are resolved and checked at each delivery.
 */
export function refuseWebhookUrl(raw: string, policy: AddressPolicy): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (url.username || url.password) return 'must not contain credentials';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) return 'must name a host';
  if (isIP(host)) {
    const why = policy.refuse(host);
    if (why) return `refused: ${why}`;
  }
  return null;
}
