import runbook from './runbook.ts';
import serviceCatalog from './service-catalog.ts';

export const resources = [serviceCatalog, runbook];
