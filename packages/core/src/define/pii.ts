/**
 * Masks personal data in free text and known fields: email addresses, phone
 * numbers and payment references. The masked forms keep enough shape to be
 * useful (domain of an email, last digits) and stay valid strings for any
 * output schema that accepts free text.
 */
const EMAIL = /\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b/g;
// International or national numbers with 9+ digits and optional separators.
const PHONE = /(?<![\w-])(\+?\d[\d ().-]{7,}\d)(?![\w-])/g;
// Card-like payment-method ids, IBANs and long card numbers.
const PAYMENT_ID = /\b(pm|card|src|ba)_[A-Za-z0-9_]{4,}\b/g;
const IBAN = /\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b/g;

function keepLast(value: string, visible: number): string {
  const digits = value.replace(/\D/g, '');
  return digits.slice(-visible);
}

/** Every pattern above needs one of these characters: text without any has nothing to mask. */
const MAYBE_PII = /[@\d_]/;

export function maskPii(text: string): string {
  if (!MAYBE_PII.test(text)) return text;
  return text
    .replace(EMAIL, (_m, first: string, domain: string) => `${first}***@${domain}`)
    .replace(IBAN, (m) => `${m.slice(0, 2)}** **** ${m.slice(-4)}`)
    .replace(PAYMENT_ID, (m, kind: string) => `${kind}_****${m.slice(-4)}`)
    .replace(PHONE, (m) => {
      const digits = m.replace(/\D/g, '');
      return digits.length >= 9 ? `***-***-${keepLast(m, 2)}` : m;
    });
}

/** Deep-masks every string in a JSON-like value. */
export function maskPiiDeep<T>(value: T): T {
  if (typeof value === 'string') return maskPii(value) as T;
  if (Array.isArray(value)) return value.map((v) => maskPiiDeep(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskPiiDeep(v)])) as T;
  }
  return value;
}
