using System.Text.Json.Serialization;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Optimizer.Api.Auth;
using Optimizer.Api.Errors;
using Optimizer.Api.Uploads;
using Optimizer.Domain.Common;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Routing;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Api.Extensions;

public static class HostingExtensions
{
    /// <summary>Registers everything the Api needs; connection strings are read lazily so test hosts can override them.</summary>
    public static IHostApplicationBuilder AddApiServices(this IHostApplicationBuilder builder)
    {
        builder.AddLoggingDefaults();
        var services = builder.Services;
        services.AddOptions<OptimizerOptions>().BindConfiguration(OptimizerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<OptimizerOptions>, MethodQueuesValidation>();
        services.AddSingleton(sp => MethodQueueRoutes.Parse(
            sp.GetRequiredService<IOptions<OptimizerOptions>>().Value.MethodQueues, MethodCatalog.All));

        services.AddDbContext<OptimizerDbContext>((sp, options) =>
            PersistenceExtensions.Configure(options, RequiredConnectionString(sp, "Postgres")));
        services.AddSingleton<IArtifactStore>(sp => BlobArtifactStore.Create(
            RequiredConnectionString(sp, "Blob"), sp.GetRequiredService<IOptions<OptimizerOptions>>().Value.BlobContainer));
        services.AddScoped<ModelUploadService>();
        services.AddScoped<DatasetUploadService>();
        services.AddScoped<Jobs.JobSubmitter>();
        services.AddScoped<Jobs.JobPreflight>();
        services.AddSingleton<Jobs.ModelShapeCache>();

        AddHangfireClient(services);
        services.AddSingleton<QueueServers>();
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section);
        services.AddSingleton<IWebhookQueue, HangfireWebhookQueue>();
        services.AddScoped<IJobEventPublisher, WebhookPublisher>();

        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemTypes.Customize);
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = OptimizerJson.Options.PropertyNamingPolicy;
            o.SerializerOptions.DictionaryKeyPolicy = OptimizerJson.Options.DictionaryKeyPolicy;
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        });
        services.Configure<FormOptions>(o => o.BufferBody = false);

        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicies.Tenant, p => p.RequireClaim(ApiPolicies.TenantClaim))
            .AddPolicy(ApiPolicies.Admin, p => p.RequireRole(ApiPolicies.AdminRole));

        services.AddTenantRateLimiting();
        services.AddSwagger();
        builder.AddApiTelemetry();
        return builder;
    }

    public static WebApplication UseApiPipeline(this WebApplication app)
    {
        app.UseExceptionHandler();
        // Empty 4xx/5xx answers (unknown route 404, 405, 415 from routing) get a problem body too.
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseTenantLogScope();
        // After authentication: the limit is partitioned by the key's tenant.
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseSwaggerDocs();
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/hangfire"), b => b.Use(HangfireDashboardAuth.ExchangeKeyForCookie));
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new HangfireDashboardAuth()],
            DashboardTitle = "Optimizer jobs",
        }, app.Services.GetRequiredService<JobStorage>());
        app.MapMetricsEndpoint();
        return app;
    }

    /// <summary>Applies EF migrations and makes sure Hangfire's schema exists before the first request.</summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await MigrationRunner.MigrateAsync(scope.ServiceProvider.GetRequiredService<OptimizerDbContext>());
        }
        _ = app.Services.GetRequiredService<JobStorage>();
    }

    /// <summary>Client only (the Worker runs the server). Storage is our own singleton, never <c>JobStorage.Current</c>.</summary>
    private static void AddHangfireClient(IServiceCollection services)
    {
        services.AddSingleton<JobStorage>(sp =>
        {
            var options = new PostgreSqlStorageOptions
            {
                SchemaName = "hangfire",
                EnableLongPolling = true,
                PrepareSchemaIfNecessary = true,
            };
            return new PostgreSqlStorage(new NpgsqlConnectionFactory(RequiredConnectionString(sp, "Postgres"), options), options);
        });
        services.AddHangfire(ConfigureHangfireGlobalsOnce);
    }

    private static readonly Lock s_hangfireGlobalsLock = new();
    private static bool s_hangfireGlobalsDone;

    /// <summary>
    /// Hangfire's serializer settings and job filters are process-wide statics; several hosts in one process
    /// (the tests) must not change them while another host is creating jobs, so they are set once.
    /// </summary>
    private static void ConfigureHangfireGlobalsOnce(IGlobalConfiguration config)
    {
        // Hangfire's log provider is process-wide too, and AddHangfire points it at this host's logger factory,
        // which dies with the host. The client logs nothing we need (failures surface as exceptions), so: none.
        config.UseLogProvider(new SilentHangfireLogProvider());
        lock (s_hangfireGlobalsLock)
        {
            if (s_hangfireGlobalsDone)
            {
                return;
            }
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180).UseSimpleAssemblyNameTypeSerializer().UseRecommendedSerializerSettings();
            // Hangfire registers AutomaticRetry(10) globally; our jobs are long and not idempotent, so no retries.
            foreach (var filter in GlobalJobFilters.Filters.Where(f => f.Instance is AutomaticRetryAttribute { Attempts: not 0 }).ToList())
            {
                GlobalJobFilters.Filters.Remove(filter.Instance);
            }
            GlobalJobFilters.Filters.Add(new AutomaticRetryAttribute { Attempts = 0 });
            s_hangfireGlobalsDone = true;
        }
    }

    private static string RequiredConnectionString(IServiceProvider sp, string name) =>
        sp.GetRequiredService<IConfiguration>().GetConnectionString(name)
        ?? throw new InvalidOperationException($"ConnectionStrings:{name} is not configured.");

    private sealed class SilentHangfireLogProvider : Hangfire.Logging.ILogProvider
    {
        public Hangfire.Logging.ILog GetLogger(string name) => new SilentLog();

        private sealed class SilentLog : Hangfire.Logging.ILog
        {
            public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
        }
    }
}
