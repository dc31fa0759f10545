using Microsoft.EntityFrameworkCore;
using Optimizer.Domain.Datasets;
using Optimizer.Domain.Idempotency;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;
using Optimizer.Domain.Reports;
using Optimizer.Domain.Tenancy;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Domain.Persistence;

/// <summary>The service's own tables (schema <c>optimizer</c>); Hangfire keeps its schema apart.</summary>
/// <remarks>
/// Add a migration with:
/// <c>dotnet ef migrations add &lt;Name&gt; --project src/Domain --startup-project src/Domain --output-dir Persistence/Migrations</c>
/// </remarks>
public sealed class OptimizerDbContext(DbContextOptions<OptimizerDbContext> options) : DbContext(options)
{
    public const string Schema = "optimizer";

    public DbSet<Tenant> Tenants => Set<Tenant>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Model> Models => Set<Model>();
    public DbSet<ModelFile> ModelFiles => Set<ModelFile>();
    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<Job> Jobs => Set<Job>();
    public DbSet<JobEvent> JobEvents => Set<JobEvent>();
    public DbSet<Report> Reports => Set<Report>();
    public DbSet<IdempotencyRecord> IdempotencyKeys => Set<IdempotencyRecord>();
    public DbSet<WebhookSubscription> WebhookSubscriptions => Set<WebhookSubscription>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<WebhookAttempt> WebhookAttempts => Set<WebhookAttempt>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(OptimizerDbContext).Assembly);
    }
}
