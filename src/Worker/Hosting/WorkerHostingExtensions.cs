using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Storage;
using Optimizer.Domain.Telemetry;
using Optimizer.Domain.Webhooks;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Webhooks;

namespace Optimizer.Worker.Hosting;

/// <summary>Registration of the worker process: database, blob store, pipelines and the Hangfire server.</summary>
public static class WorkerHostingExtensions
{
    public static IHostApplicationBuilder AddWorkerServices(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var postgres = configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is required.");
        var blob = configuration.GetConnectionString("Blob")
            ?? throw new InvalidOperationException("ConnectionStrings:Blob is required.");
        var services = builder.Services;

        var testing = builder.Environment.IsEnvironment("Testing");
        services.AddOptions<WorkerOptions>().BindConfiguration("Worker").Configure(o =>
        {
            o.BlobContainer = configuration["Optimizer:BlobContainer"] ?? o.BlobContainer;
            // Fault injection exists for the crash tests only: no production configuration can slow a job down.
            if (!testing)
            {
                o.TestCheckpointDelay = TimeSpan.Zero;
            }
        });
        services.AddOptimizerDb(postgres);
        services.AddSingleton<IArtifactStore>(sp =>
            BlobArtifactStore.Create(blob, sp.GetRequiredService<IOptions<WorkerOptions>>().Value.BlobContainer));
        services.AddWorkerExecution();

        services.AddHangfire(config => config
            .UsePostgreSqlStorage(o => o.UseNpgsqlConnection(postgres), new PostgreSqlStorageOptions
            {
                SchemaName = "hangfire",
                PrepareSchemaIfNecessary = true,
                // LISTEN/NOTIFY: a job enqueued by the Api is picked up in milliseconds instead of a poll interval.
                EnableLongPolling = true,
                QueuePollInterval = TimeSpan.FromSeconds(1),
                // Jobs can run for hours: keep extending the fetch lease instead of re-delivering after 30 minutes.
                UseSlidingInvisibilityTimeout = true,
            })
            // Long jobs are never retried by Hangfire: a failure is recorded on our row; a lost worker is recovered by JobRecovery.
            .UseFilter(new AutomaticRetryAttribute { Attempts = 0 }));
        services.AddSingleton<IJobQueue, HangfireJobQueue>();
        services.AddHostedService<RecoveryService>();
        services.AddHostedService<WorkerEndpoints>();
        services.AddHangfireServer((sp, server) =>
        {
            var worker = sp.GetRequiredService<IOptions<WorkerOptions>>().Value;
            server.Queues = worker.QueueList.Length > 0 ? worker.QueueList : ["cpu"];
            server.WorkerCount = Math.Max(1, worker.Count);
            server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:worker";
            // A running job stops at its next boundary and is handed back to the queue within this time.
            server.ShutdownTimeout = TimeSpan.FromSeconds(30);
        });
        services.AddWorkerWebhooks();
        // Deliveries get their own server and queue, so they never wait behind a long job.
        services.AddHangfireServer((sp, server) =>
        {
            server.Queues = [IWebhookQueue.QueueName];
            server.WorkerCount = Math.Max(1, sp.GetRequiredService<IOptions<WebhookOptions>>().Value.WorkerCount);
            server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:webhooks";
            server.ShutdownTimeout = TimeSpan.FromSeconds(20);
        });
        services.AddHostedService<WebhookSweeper>();
        builder.AddWorkerTelemetry();
        return builder;
    }

    /// <summary>
    /// Webhook publishing and sending (options from <c>Optimizer:Webhooks</c>); needs an <c>IBackgroundJobClient</c>.
    /// The <see cref="JobRunner"/> publishes through <see cref="IJobEventPublisher"/> when it is registered.
    /// </summary>
    public static IServiceCollection AddWorkerWebhooks(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section)
            .Validate(HasValidSchedule, "Optimizer:Webhooks:RetryDelays must be a comma-separated list like 5s,5m,2h.")
            .ValidateOnStart();
        services.AddOptimizerMetrics();
        services.AddSingleton<WebhookHttp>();
        services.AddSingleton<IWebhookQueue, HangfireWebhookQueue>();
        services.AddScoped<IWebhookSender, WebhookSender>();
        services.AddScoped<IJobEventPublisher, WebhookPublisher>();
        return services;
    }

    private static bool HasValidSchedule(WebhookOptions options)
    {
        try
        {
            return options.RetrySchedule() is not null;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>The job execution services, without Hangfire (tests call the runner directly).</summary>
    public static IServiceCollection AddWorkerExecution(this IServiceCollection services)
    {
        services.AddOptimizerMetrics();
        services.AddSingleton(_ => PipelineRegistry.Build());
        services.AddScoped<IJobExecutor, JobRunner>();
        services.AddScoped<JobRunner>();
        services.AddScoped<IModelEvaluator, Evaluator>();
        services.AddScoped<IDatasetText, DatasetText>();
        services.AddScoped<Methods.FineTune.Shared.ICheckpointModels, Methods.FineTune.Shared.CheckpointModels>();
        services.AddSingleton<ILanguageModelComparer, LlamaLanguageModelComparer>();
        services.AddSingleton<Evaluation.Encoders.IEncoderComparer, Evaluation.Encoders.BertEncoderComparer>();
        return services;
    }

    /// <summary>Start-up work before the first job: migrations, the pipeline registry check, built-in datasets.</summary>
    public static async Task InitializeWorkerAsync(this IServiceProvider services, CancellationToken cancellationToken)
    {
        // Fails fast on a broken registry before anything else touches the database.
        _ = services.GetRequiredService<PipelineRegistry>();
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OptimizerDbContext>();
        await MigrationRunner.MigrateAsync(db, cancellationToken);
        var seeder = ActivatorUtilities.CreateInstance<BuiltinDatasetSeeder>(scope.ServiceProvider);
        await seeder.SeedAsync(cancellationToken);
        scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Optimizer.Worker")
            .LogInformation("Worker ready");
    }
}
