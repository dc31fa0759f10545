using Optimizer.Domain.Common;

namespace Optimizer.Domain.Tenancy;

/// <summary>An isolated customer: every resource belongs to exactly one tenant.</summary>
public sealed class Tenant
{
    public const int MaxNameLength = 200;

    private Tenant()
    {
    }

    public Tenant(string name)
    {
        Id = Ids.New("ten");
        Name = name;
        CreatedAt = DateTimeOffset.UtcNow;
    }

    public string Id { get; private set; } = "";
    public string Name { get; private set; } = "";
    public DateTimeOffset CreatedAt { get; private set; }
}
