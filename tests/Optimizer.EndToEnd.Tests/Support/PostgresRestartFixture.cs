namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>
/// The Api with no worker, on a PostgreSQL cluster of its own (<see cref="PrivatePostgres"/>) that the tests stop and
/// start; webhooks may go to loopback receivers.
/// </summary>
public sealed class PostgresRestartFixture : ServiceFixture
{
    private PrivatePostgres? _postgres;

    protected override bool StartsWorker => false;

    protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["Optimizer__Webhooks__AllowPrivateNetworks"] = "true",
    };

    internal PrivatePostgres Postgres => _postgres!;

    protected override async Task<string> StartPostgresAsync()
    {
        _postgres = await PrivatePostgres.StartAsync();
        return _postgres.ServerConnection;
    }

    protected override async ValueTask StopPostgresAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
