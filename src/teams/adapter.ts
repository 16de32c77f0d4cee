import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
  type TurnContext,
} from 'botbuilder';
import type { AuthMode } from '../config.js';
import type { Logger } from '../log.js';

/** Bot Framework settings for the adapter; none at all means local unauthenticated mode. */
export function authOptions(auth: AuthMode): ConfigurationBotFrameworkAuthenticationOptions {
  switch (auth.kind) {
    case 'local':
      return {};
    case 'SingleTenant':
      return {
        MicrosoftAppType: 'SingleTenant',
        MicrosoftAppId: auth.appId,
        MicrosoftAppPassword: auth.password,
        MicrosoftAppTenantId: auth.tenantId,
      };
    case 'UserAssignedMsi':
      return {
        MicrosoftAppType: 'UserAssignedMsi',
        MicrosoftAppId: auth.appId,
        MicrosoftAppTenantId: auth.tenantId,
      };
  }
}

export function createAdapter(auth: AuthMode, log: Logger): CloudAdapter {
  const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication(authOptions(auth)));
  adapter.onTurnError = async (context: TurnContext, error: unknown) => {
    log.error({ err: error, activityId: context.activity.id, type: context.activity.type }, 'turn failed');
    if (context.activity.type === 'message') {
      // Best effort: the user should know their message was not handled; the fault is in the logs.
      await context
        .sendActivity('Sorry, something went wrong on my side. Nothing you sent was lost — please try again.')
        .catch(() => {});
    }
  };
  return adapter;
}
