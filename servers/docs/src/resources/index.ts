import adrIndex from './adr-index.ts';
import document from './document.ts';

export const resources = [adrIndex, document];
