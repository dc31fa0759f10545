using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Optimizer.Worker.Hosting;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Execution;

public sealed class BuiltinDatasetSeederTests
{
    [Fact]
    public async Task SeedAsync_CreatesBothDatasetsOnce_WhenTwoWorkersRace()
    {
        var ct = TestContext.Current.CancellationToken;
        _ = TestEnvironment.CorpusDir; // fails with a pointer to scripts/test when missing
        await using var services = await WorkerServices.StartAsync();

        async Task SeedAsync()
        {
            await using var scope = services.Provider.CreateAsyncScope();
            await ActivatorUtilities.CreateInstance<BuiltinDatasetSeeder>(scope.ServiceProvider).SeedAsync(ct);
        }
        await Task.WhenAll(SeedAsync(), SeedAsync());
        await SeedAsync();

        await using var db = services.NewDb();
        var datasets = await db.Datasets.OrderBy(d => d.Id).ToListAsync(ct);
        Assert.Equal([BuiltinDatasetSeeder.CalibrationId, BuiltinDatasetSeeder.HeldOutId], datasets.Select(d => d.Id));
        foreach (var dataset in datasets)
        {
            Assert.Null(dataset.TenantId);
            Assert.True(dataset.SizeBytes > 10_000);
            Assert.True(await services.Store.ExistsAsync(dataset.BlobPath, ct));
        }
    }
}
