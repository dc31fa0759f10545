using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Optimizer.Domain.Persistence;

/// <summary>Lets <c>dotnet ef</c> build the context without starting the Api (no database is contacted).</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<OptimizerDbContext>
{
    public OptimizerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<OptimizerDbContext>()
            .UseNpgsql("Host=localhost;Database=optimizer_design", o => o.MigrationsHistoryTable("__ef_migrations", OptimizerDbContext.Schema))
            .Options);
}
