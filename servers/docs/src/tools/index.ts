import findServiceOwner from './find-service-owner.ts';
import getDocument from './get-document.ts';
import listAdrs from './list-adrs.ts';
import searchDocs from './search-docs.ts';

/** The docs tool registry: the whole capability surface, in one place. All read-only. */
export const tools = [searchDocs, getDocument, listAdrs, findServiceOwner];
