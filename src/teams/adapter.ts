import {
  type Activity,
  CallerIdConstants,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
  StatusCodes,
  type TurnContext,
} from 'botbuilder';
import { type AuthenticateRequestResult, AuthenticationConstants, AuthenticationError } from 'botframework-connector';
import type { AuthMode } from '../config.js';
import type { Logger } from '../log.js';

/** Bot Framework settings for the adapter; none at all means local unauthenticated mode. */
export function authOptions(auth: AuthMode): ConfigurationBotFrameworkAuthenticationOptions {
  if (auth.kind === 'local') return {};
  const options: ConfigurationBotFrameworkAuthenticationOptions = {
    MicrosoftAppType: auth.kind,
    MicrosoftAppId: auth.appId,
    MicrosoftAppTenantId: auth.tenantId,
  };
  if (auth.kind === 'SingleTenant') options.MicrosoftAppPassword = auth.password;
  if (auth.openIdMetadataUrl) {
    // Any one override switches botbuilder to its parameterised setup, which then needs every public-cloud value.
    Object.assign(options, {
      ToBotFromChannelOpenIdMetadataUrl: auth.openIdMetadataUrl,
      ToBotFromChannelTokenIssuer: AuthenticationConstants.ToBotFromChannelTokenIssuer,
      ToBotFromEmulatorOpenIdMetadataUrl: AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
      ToChannelFromBotLoginUrl: AuthenticationConstants.ToChannelFromBotLoginUrl,
      ToChannelFromBotOAuthScope: AuthenticationConstants.ToChannelFromBotOAuthScope,
      OAuthUrl: AuthenticationConstants.OAuthUrl,
      CallerId: CallerIdConstants.PublicAzureChannel,
      ValidateAuthority: true,
    });
  }
  return options;
}

/**
 * botbuilder lets a token with a bad signature escape as a plain JsonWebTokenError, which CloudAdapter answers
 * with 500. A forged or broken token is the caller's fault: answer 401 like every other authentication failure.
 */
class StrictBotFrameworkAuthentication extends ConfigurationBotFrameworkAuthentication {
  override async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    try {
      return await super.authenticateRequest(activity, authHeader);
    } catch (err) {
      if (err instanceof Error && /^(JsonWebTokenError|NotBeforeError|TokenExpiredError)$/.test(err.name)) {
        throw new AuthenticationError(`Unauthorized: ${err.message}`, StatusCodes.UNAUTHORIZED);
      }
      throw err;
    }
  }
}

export function createAdapter(auth: AuthMode, log: Logger): CloudAdapter {
  const adapter = new CloudAdapter(new StrictBotFrameworkAuthentication(authOptions(auth)));
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
