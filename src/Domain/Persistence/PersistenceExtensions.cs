using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Optimizer.Domain.Persistence;

public static class PersistenceExtensions
{
    /// <summary>Registers <see cref="OptimizerDbContext"/> on PostgreSQL; Api and Worker share this.</summary>
    public static IServiceCollection AddOptimizerDb(this IServiceCollection services, string connectionString) =>
        services.AddDbContext<OptimizerDbContext>(options => Configure(options, connectionString));

    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString, o => o.MigrationsHistoryTable("__ef_migrations", OptimizerDbContext.Schema));
}
