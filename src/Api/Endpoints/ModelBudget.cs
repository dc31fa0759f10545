using Optimizer.Api.Contracts.Models;
using Optimizer.Domain.Formats.BitStack;
using Optimizer.Domain.Models;

namespace Optimizer.Api.Endpoints;

/// <summary>
/// <c>GET /v1/models/{id}?budget_mb=</c>: a BitStack model truncated to a memory budget, chosen by the same
/// <see cref="BitStackManifest.Select"/> the worker loads with.
/// </summary>
public static class ModelBudget
{
    public static async Task<Results<Ok<ModelResponse>, ValidationProblem, ProblemHttpResult>> TruncateAsync(
        Model model, double budgetMb, IArtifactStore store, CancellationToken cancellationToken)
    {
        if (!double.IsFinite(budgetMb) || budgetMb <= 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["budget_mb"] = ["budget_mb must be a positive number of MB."] });
        }
        if (model.Files.All(f => f.Name != BitStackManifest.FileName))
        {
            return Problems.Unprocessable($"budget_mb applies to BitStack models only; model '{model.Id}' has no {BitStackManifest.FileName}.");
        }
        BitStackManifest manifest;
        await using (var stream = await store.OpenReadAsync(model.BlobPrefix + BitStackManifest.FileName, cancellationToken))
        using (var reader = new StreamReader(stream))
        {
            try
            {
                manifest = BitStackManifest.Parse(await reader.ReadToEndAsync(cancellationToken));
            }
            catch (Exception ex) when (ex is InvalidDataException or System.Text.Json.JsonException)
            {
                return Problems.Unprocessable($"Model '{model.Id}' has an unreadable {BitStackManifest.FileName}: {ex.Message}");
            }
        }
        var selection = manifest.Select(budgetMb);
        if (selection is null)
        {
            return Problems.Unprocessable(
                $"A budget of {budgetMb} MB is below this model's minimum of {manifest.MinimumBytes / BitStackManifest.BytesPerMb:0.###} MB (one block per linear).");
        }
        var blocks = manifest.Linears.Select((l, i) => new LinearBlocksResponse(l.Prefix, selection.BlocksPerLinear[i])).ToList();
        var response = ModelResponse.From(model) with
        {
            SizeBytes = selection.SizeBytes,
            Budget = new ModelBudgetResponse(budgetMb, selection.SizeBytes, manifest.MinimumBytes, manifest.FullBytes, selection.LoadedBlocks, selection.TotalBlocks, blocks),
        };
        return TypedResults.Ok(response);
    }
}
