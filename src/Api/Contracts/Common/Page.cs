namespace Optimizer.Api.Contracts.Common;

/// <summary>One page of a cursor-paginated list: pass <c>last_id</c> as <c>?after=</c> for the next page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Data, bool HasMore, string? LastId);

/// <summary>Shared paging rules: <c>limit</c> 1-100, default 50.</summary>
public static class Paging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 100;

    /// <summary>Validation errors for <paramref name="limit"/>, or null when it is acceptable.</summary>
    public static Dictionary<string, string[]>? Validate(int? limit) =>
        limit is null or (>= 1 and <= MaxLimit)
            ? null
            : new Dictionary<string, string[]> { ["limit"] = [$"limit must be between 1 and {MaxLimit}."] };

    /// <summary>Cuts the one extra row fetched to learn whether another page exists.</summary>
    public static Page<TOut> Create<TIn, TOut>(List<TIn> rows, int limit, Func<TIn, TOut> map, Func<TIn, string> id)
    {
        var hasMore = rows.Count > limit;
        var page = rows.Take(limit).ToList();
        return new Page<TOut>([.. page.Select(map)], hasMore, page.Count == 0 ? null : id(page[^1]));
    }
}
