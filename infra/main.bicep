// Rollout Desk: production resources in one resource group.
//
//   Storage account (tables + queues) ── shared by every instance of ──▶ Web App (Linux, Node 22 LTS)
//   User-assigned managed identity ─── the bot's identity (UserAssignedMSI) and, by default, storage access
//   Key Vault ─── every secret the app settings need (read by the web app as Key Vault references)
//   Azure Bot (global) with the Microsoft Teams channel ──▶ https://<web app>/api/messages
//   Optional: Log Analytics workspace + Application Insights
//
// Deploy:  az deployment group create -g <rg> -f infra/main.bicep -p @infra/main.parameters.json
// Code:    npm run package:server, then az webapp deploy --type zip (docs/deployment.md).
// test/infra/bicep.test.ts checks this file against the app's settings schema and the Dockerfile.

targetScope = 'resourceGroup'

// ─── Parameters ──────────────────────────────────────────────────────────────

@description('Short lowercase name used to build resource names.')
@minLength(2)
@maxLength(12)
param baseName string = 'rolloutdesk'

@description('Region of the regional resources. The Azure Bot itself is always global.')
param location string = resourceGroup().location

@description('App Service plan SKU. alwaysOn needs Basic or higher. Use S1/P0v3 or higher for several instances.')
@allowed([
  'B1'
  'B2'
  'B3'
  'S1'
  'S2'
  'S3'
  'P0v3'
  'P1v3'
  'P2v3'
  'P3v3'
])
param appServicePlanSku string = 'B1'

@description('Number of web app instances. All share the storage account; scheduled jobs are lease-guarded. Basic allows at most 3.')
@minValue(1)
@maxValue(30)
param instanceCount int = 1

@description('Azure Bot pricing tier: F0 (free, standard channels such as Teams are free) or S1.')
@allowed([
  'F0'
  'S1'
])
param botSku string = 'F0'

@description('Bot identity: UserAssignedMSI (the managed identity created here; no secret to rotate) or SingleTenant (an existing Entra app registration in this tenant, with a client secret). Multi-tenant registrations are deprecated and not offered.')
@allowed([
  'UserAssignedMSI'
  'SingleTenant'
])
param botAppType string = 'UserAssignedMSI'

@description('SingleTenant only: client (application) id of the existing Entra app registration.')
param botAppId string = ''

@description('SingleTenant only: a client secret of that app registration.')
@secure()
param botAppPassword string = ''

@description('How the app reaches storage: managedIdentity (recommended: RBAC roles for the identity, shared keys disabled) or connectionString (account key in an app setting).')
@allowed([
  'managedIdentity'
  'connectionString'
])
param storageAuthMode string = 'managedIdentity'

@description('Storage redundancy.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
])
param storageSku string = 'Standard_LRS'

@description('pino log level.')
@allowed([
  'fatal'
  'error'
  'warn'
  'info'
  'debug'
  'trace'
  'silent'
])
param logLevel string = 'info'

@description('Comma-separated Entra object ids of champions (CHAMPION_IDS).')
param championIds string = ''

@description('Comma-separated Entra object ids of the rollout team (ROLLOUT_TEAM_IDS).')
param rolloutTeamIds string = ''

@description('Team id of the champions team, whose members are champions (CHAMPIONS_TEAM_ID). Optional.')
param championsTeamId string = ''

@description('Further app settings, name → value (e.g. SYSTEM_NAME, GUIDANCE_DIR, GUIDANCE_BASE_URL, OPENAI_MODEL). Not for secrets: use openAiApiKey, or a Key Vault reference string.')
param extraAppSettings object = {}

@description('Optional: an OpenAI API key for model-written FAQ answers. Stored in the Key Vault; the app reads it as a Key Vault reference. Azure OpenAI with managed identity needs no key.')
@secure()
param openAiApiKey string = ''

@description('On SIGTERM (restart, scale-in, deployment), how long requests, sends and jobs in flight get to finish.')
@minValue(1)
@maxValue(600)
param shutdownTimeoutSeconds int = 20

@description('Create a Log Analytics workspace and Application Insights, and switch on the App Service Node agent.')
param enableAppInsights bool = false

@description('Display name of the bot in Azure.')
param botDisplayName string = 'Rollout Desk'

@description('Tags for every resource.')
param tags object = {
  app: 'rollout-desk'
}

// ─── Names ───────────────────────────────────────────────────────────────────

var token = uniqueString(resourceGroup().id, baseName)
var webAppName = '${baseName}-${token}'
var planName = '${baseName}-plan-${token}'
var identityName = '${baseName}-id-${token}'
var botName = '${baseName}-bot-${token}'
var storageName = take('st${replace(toLower(baseName), '-', '')}${token}', 24)
var workspaceName = '${baseName}-logs-${token}'
var insightsName = '${baseName}-ai-${token}'
var vaultName = take('kv${replace(toLower(baseName), '-', '')}${token}', 24)

var useManagedIdentityForStorage = storageAuthMode == 'managedIdentity'
var useMsiBot = botAppType == 'UserAssignedMSI'

// Built-in role definition ids.
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

// ─── Identity ────────────────────────────────────────────────────────────────

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: identityName
  location: location
  tags: tags
}

// ─── Storage (tables + queues) ───────────────────────────────────────────────

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: storageSku
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // With managed identity the account key is not needed: switch shared-key (and SAS) access off.
    allowSharedKeyAccess: !useManagedIdentityForStorage
    defaultToOAuthAuthentication: useManagedIdentityForStorage
    accessTier: 'Hot'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource tableRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useManagedIdentityForStorage) {
  name: guid(storage.id, identity.id, storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource queueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useManagedIdentityForStorage) {
  name: guid(storage.id, identity.id, storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ─── Key Vault: the secrets behind the app settings ─────────────────────────────

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

// The web app resolves Key Vault references with the user-assigned identity (keyVaultReferenceIdentity).
resource vaultRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource botPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!useMsiBot) {
  parent: vault
  name: 'bot-app-password'
  properties: {
    value: botAppPassword
  }
}

resource storageConnectionSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!useManagedIdentityForStorage) {
  parent: vault
  name: 'storage-connection-string'
  properties: {
    value: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'
  }
}

resource openAiKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(openAiApiKey)) {
  parent: vault
  name: 'openai-api-key'
  properties: {
    value: openAiApiKey
  }
}

// ─── Monitoring (optional) ───────────────────────────────────────────────────

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = if (enableAppInsights) {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = if (enableAppInsights) {
  name: insightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'Node.JS'
    WorkspaceResourceId: workspace.id
  }
}

// ─── App Service ─────────────────────────────────────────────────────────────

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'linux'
  sku: {
    name: appServicePlanSku
    capacity: instanceCount
  }
  properties: {
    reserved: true // Linux
  }
}

var botClientId = useMsiBot ? identity.properties.clientId : botAppId

var botSettings = useMsiBot ? [
  {
    name: 'MicrosoftAppType'
    value: 'UserAssignedMsi'
  }
  {
    name: 'MicrosoftAppId'
    value: identity.properties.clientId
  }
  {
    name: 'MicrosoftAppTenantId'
    value: tenant().tenantId
  }
] : [
  {
    name: 'MicrosoftAppType'
    value: 'SingleTenant'
  }
  {
    name: 'MicrosoftAppId'
    value: botAppId
  }
  {
    name: 'MicrosoftAppPassword'
    value: '@Microsoft.KeyVault(SecretUri=${botPasswordSecret.properties.secretUri})'
  }
  {
    name: 'MicrosoftAppTenantId'
    value: tenant().tenantId
  }
]

// managedIdentity: the app authenticates to storage as AZURE_CLIENT_ID (roles assigned above).
// connectionString: the account key sits in the Key Vault; the app setting only refers to it.
var storageSettings = useManagedIdentityForStorage ? [
  {
    name: 'AZURE_STORAGE_ACCOUNT_NAME'
    value: storage.name
  }
  {
    name: 'AZURE_STORAGE_TABLE_ENDPOINT'
    value: storage.properties.primaryEndpoints.table
  }
  {
    name: 'AZURE_STORAGE_QUEUE_ENDPOINT'
    value: storage.properties.primaryEndpoints.queue
  }
] : [
  {
    name: 'AZURE_STORAGE_CONNECTION_STRING'
    value: '@Microsoft.KeyVault(SecretUri=${storageConnectionSecret.properties.secretUri})'
  }
]

// The app sends telemetry itself (Azure Monitor OpenTelemetry distro); App Service's Node agent stays off,
// or every request would be reported twice. The connection string identifies the resource; it is no credential.
var monitoringSettings = enableAppInsights ? [
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: insights.properties.ConnectionString
  }
] : []

var modelSettings = empty(openAiApiKey) ? [] : [
  {
    name: 'OPENAI_API_KEY'
    value: '@Microsoft.KeyVault(SecretUri=${openAiKeySecret.properties.secretUri})'
  }
]

var baseSettings = [
  {
    name: 'NODE_ENV'
    value: 'production'
  }
  {
    name: 'LOG_LEVEL'
    value: logLevel
  }
  {
    // The identity @azure/identity picks (ManagedIdentityCredential / DefaultAzureCredential).
    name: 'AZURE_CLIENT_ID'
    value: identity.properties.clientId
  }
  {
    // Download links (issue exports) must name the public host.
    name: 'PUBLIC_BASE_URL'
    value: 'https://${webAppName}.azurewebsites.net'
  }
  {
    name: 'SHUTDOWN_TIMEOUT_SECONDS'
    value: string(shutdownTimeoutSeconds)
  }
  {
    name: 'CHAMPION_IDS'
    value: championIds
  }
  {
    name: 'ROLLOUT_TEAM_IDS'
    value: rolloutTeamIds
  }
  {
    name: 'CHAMPIONS_TEAM_ID'
    value: championsTeamId
  }
  {
    // The zip from `npm run package:server` is built already (dist/ + runtime node_modules): no build on the
    // server, and the app runs from the package as deployed.
    name: 'SCM_DO_BUILD_DURING_DEPLOYMENT'
    value: 'false'
  }
  {
    name: 'WEBSITE_RUN_FROM_PACKAGE'
    value: '1'
  }
]

var extraSettings = [for item in items(extraAppSettings): {
  name: item.key
  value: string(item.value)
}]

resource webApp 'Microsoft.Web/sites@2023-12-01' = {
  name: webAppName
  location: location
  tags: tags
  kind: 'app,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false // stateless: any instance can take any request
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      linuxFxVersion: 'NODE|22-lts' // the Dockerfile's base image has the same major version (tested)
      appCommandLine: 'node --enable-source-maps dist/main.js'
      alwaysOn: true
      healthCheckPath: '/healthz'
      http20Enabled: true
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: concat(baseSettings, botSettings, storageSettings, monitoringSettings, modelSettings, extraSettings)
    }
  }
  dependsOn: [
    tableRole
    queueRole
    vaultRole
  ]
}

// ─── Azure Bot + Teams channel ───────────────────────────────────────────────

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: botName
  location: 'global'
  tags: tags
  kind: 'azurebot'
  sku: {
    name: botSku
  }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${webApp.properties.defaultHostName}/api/messages'
    msaAppType: botAppType
    msaAppId: botClientId
    msaAppTenantId: tenant().tenantId
    msaAppMSIResourceId: useMsiBot ? identity.id : null
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
    }
  }
}

// ─── Outputs ─────────────────────────────────────────────────────────────────

@description('BOT_ID in env/.env.<name> for `npm run package`: the bot\'s Microsoft App ID (the managed identity\'s client id in UserAssignedMSI mode).')
output botId string = botClientId

@description('BOT_DOMAIN in env/.env.<name> for `npm run package`.')
output webAppHostName string = webApp.properties.defaultHostName

output webAppName string = webApp.name
output messagingEndpoint string = bot.properties.endpoint
output botName string = bot.name
output storageAccountName string = storage.name
output identityClientId string = identity.properties.clientId
output keyVaultName string = vault.name
output tenantId string = tenant().tenantId
