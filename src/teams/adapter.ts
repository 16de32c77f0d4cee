import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Activity,
  CallerIdConstants,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
  type InvokeResponse,
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

/** Token checks could not run (the OpenID metadata or its keys could not be fetched): the caller may retry. */
export class AuthenticationUnavailableError extends Error {
  override readonly name = 'AuthenticationUnavailableError';
}

/**
 * botbuilder's token checks, made strict where it is lenient (checked against botframework-connector 4.23's
 * ParameterizedBotFrameworkAuthentication and JwtTokenExtractor):
 * - a token with a bad signature escapes as a plain JsonWebTokenError, which CloudAdapter answers with 500:
 *   a forged or broken token is the caller's fault, so it is a 401 like every other authentication failure;
 * - the token's `serviceurl` claim is compared with the activity's serviceUrl only when the activity has one:
 *   an activity without a serviceUrl would be accepted with any valid token, so it is refused here;
 * - an unreachable OpenID endpoint escapes as node-fetch's FetchError (500 with a stack trace on stderr), and
 *   an endpoint that answers an error as an AuthenticationError with status 500 (which CloudAdapter turns
 *   into 401): both mean "cannot check tokens right now", answered 503.
 * Issuer, audience (the bot's app id), expiry (5 min clock skew), signing algorithm (RS256/384/512) and the
 * key's channel endorsements are checked by botbuilder itself.
 */
class StrictBotFrameworkAuthentication extends ConfigurationBotFrameworkAuthentication {
  constructor(
    options: ConfigurationBotFrameworkAuthenticationOptions,
    private readonly authenticated: boolean,
    private readonly log: Logger,
  ) {
    super(options);
    routeTokenCheckConsole();
  }

  override async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    if (this.authenticated && !activity.serviceUrl) {
      throw new AuthenticationError('Unauthorized: the activity has no serviceUrl', StatusCodes.UNAUTHORIZED);
    }
    try {
      return await tokenCheck.run(this.log, () => super.authenticateRequest(activity, authHeader));
    } catch (err) {
      if (err instanceof Error && /^(JsonWebTokenError|NotBeforeError|TokenExpiredError)$/.test(err.name)) {
        throw new AuthenticationError(`Unauthorized: ${err.message}`, StatusCodes.UNAUTHORIZED);
      }
      if (err instanceof AuthenticationError && err.statusCode >= 500) {
        throw new AuthenticationUnavailableError(err.message);
      }
      if (err instanceof Error && err.name === 'FetchError') {
        throw new AuthenticationUnavailableError(`OpenID metadata unreachable: ${err.message}`);
      }
      throw err;
    }
  }
}

const tokenCheck = new AsyncLocalStorage<Logger>();
let consoleRouted = false;

/**
 * botbuilder's token checks print stack traces (and the signing key's PEM) with console.error for every
 * expired or forged token, so anyone can fill stderr. Inside a token check those lines go to the JSON log
 * at debug level instead; console.error anywhere else is untouched.
 */
function routeTokenCheckConsole(): void {
  if (consoleRouted) return;
  consoleRouted = true;
  const original = console.error;
  console.error = (...args: unknown[]) => {
    const log = tokenCheck.getStore();
    if (!log) return original.apply(console, args);
    const detail = args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(' ');
    log.debug({ detail: detail.slice(0, 200) }, 'botbuilder token check');
  };
}

/** CloudAdapter that hands back what a turn produced instead of writing an HTTP response itself. */
export class RolloutDeskAdapter extends CloudAdapter {
  /** Authenticates and runs one activity; the invoke response (or expectReplies batch), if any. */
  async run(
    authorization: string,
    activity: Activity,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<InvokeResponse | undefined> {
    return this.processActivity(authorization, withDates(activity), logic);
  }
}

/** What CloudAdapter.process does to a parsed body before processing it: its time stamps become Dates. */
function withDates(activity: Activity): Activity {
  const a = activity as Activity & Record<string, unknown>;
  for (const [field, raw] of [
    ['timestamp', 'rawTimestamp'],
    ['expiration', 'rawExpiration'],
    ['localTimestamp', 'rawLocalTimestamp'],
  ] as const) {
    if (typeof a[field] === 'string') {
      a[raw] = a[field];
      a[field] = new Date(a[field] as string) as never;
    }
  }
  return a;
}

export function createAdapter(auth: AuthMode, log: Logger): RolloutDeskAdapter {
  const adapter = new RolloutDeskAdapter(
    new StrictBotFrameworkAuthentication(authOptions(auth), auth.kind !== 'local', log),
  );
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

/** An HTTP answer for one activity, as src/http writes it. */
export interface ActivityReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Runs activities through the adapter and turns authentication failures into clear answers: 401 for a
 * missing, forged, expired or misdirected token; 503 (retry later) when tokens cannot be checked right now.
 * Each is logged as one JSON line with the reason, never a stack trace.
 */
export function activityRunner(
  adapter: RolloutDeskAdapter,
  logic: (context: TurnContext) => Promise<void>,
  log: Logger,
): (activity: Record<string, unknown>, authorization: string) => Promise<ActivityReply> {
  return async (activity, authorization) => {
    try {
      const res = await adapter.run(authorization, activity as unknown as Activity, logic);
      return { status: res?.status ?? StatusCodes.OK, body: res?.body };
    } catch (err) {
      if (err instanceof AuthenticationError) {
        log.warn({ reason: err.message, activityType: activity.type }, 'request refused: not authenticated');
        return {
          status: StatusCodes.UNAUTHORIZED,
          body: { error: 'Unauthorized', message: 'a valid Bot Framework token is required' },
        };
      }
      if (err instanceof AuthenticationUnavailableError) {
        log.error({ reason: err.message }, 'cannot check Bot Framework tokens right now');
        return {
          status: 503,
          body: { error: 'ServiceUnavailable', message: 'tokens cannot be checked right now; retry later' },
          headers: { 'retry-after': '30' },
        };
      }
      throw err;
    }
  };
}
