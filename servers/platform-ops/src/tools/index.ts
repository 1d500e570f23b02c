import getDeployContext from './get-deploy-context.ts';
import getServiceHealth from './get-service-health.ts';
import listRecentDeploys from './list-recent-deploys.ts';
import rollbackDeploy from './rollback-deploy.ts';
import searchRunbooks from './search-runbooks.ts';

/** The platform-ops tool registry: the whole capability surface, in one place. */
export const tools = [getServiceHealth, listRecentDeploys, searchRunbooks, getDeployContext, rollbackDeploy];
