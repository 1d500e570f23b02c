export {
  findRepoRoot,
  type PackageJson,
  publishablePackages,
  readJson,
  repoRoot,
  type WorkspacePackage,
  workspaceGlobs,
  workspacePackages,
} from './packages.ts';
export {
  allScopesEnv,
  loadDefinition,
  publishableServers,
  type ServerDefinitionShape,
  type ServerPackage,
  SMOKE_FILE,
  type SmokeInputs,
  servers,
  smokeInputs,
  type ToolCall,
  upstreamEnv,
} from './servers.ts';
