using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Optimizer.Api.Contracts.Jobs;
using Optimizer.Domain.Common;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Evaluate.Standard;
using Optimizer.Domain.Methods.Merge;

namespace Optimizer.Api.Jobs;

/// <summary>A request that passed shape validation: the method, its bound options and the evaluation block.</summary>
public sealed record ValidatedJob(MethodDescriptor Method, object Options, EvaluationSpec? Evaluation);

/// <summary>Checks a job body without touching the database; field errors are keyed like the body (<c>params.bits</c>).</summary>
public static class JobRequestValidator
{
    public const int MaxNotifyUrls = 10;

    public static (ValidatedJob? Job, Dictionary<string, string[]> Errors) Validate(CreateJobRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        var method = ResolveMethod(request, errors);
        object? options = null;
        if (method is not null)
        {
            var bound = OptionsBinder.Bind(method, request.Params);
            foreach (var (key, messages) in bound.Errors)
            {
                errors[key] = messages;
            }
            options = bound.Options;
        }
        CheckModels(request, method, options, errors);
        var evaluation = BindEvaluation(request.Evaluation, errors);
        if (request.Name is { Length: > Job.MaxNameLength })
        {
            errors["name"] = [$"name is at most {Job.MaxNameLength} characters."];
        }
        CheckNotify(request.Notify, errors);
        return errors.Count == 0 && method is not null && options is not null
            ? (new ValidatedJob(method, options, evaluation), errors)
            : (null, errors);
    }

    private static MethodDescriptor? ResolveMethod(CreateJobRequest request, Dictionary<string, string[]> errors)
    {
        if (request.Type is null || !MethodCatalog.JobTypes.Contains(request.Type))
        {
            errors["type"] = [$"type must be one of: {string.Join(", ", MethodCatalog.JobTypes)}."];
            return null;
        }
        var method = MethodCatalog.Find(request.Type, request.Method);
        if (method is null)
        {
            var valid = MethodCatalog.All.Where(m => m.Type == request.Type).Select(m => m.Method).ToList();
            errors["method"] = [valid.Count == 0
                ? $"No method of type '{request.Type}' is available yet."
                : $"method must be one of: {string.Join(", ", valid)} (for type '{request.Type}')."];
        }
        return method;
    }

    private static void CheckModels(CreateJobRequest request, MethodDescriptor? method, object? options, Dictionary<string, string[]> errors)
    {
        if (request.Type == "merge")
        {
            CheckMergeModels(request, method, options, errors);
            return;
        }
        if (string.IsNullOrEmpty(request.ModelId))
        {
            errors["model_id"] = ["model_id is required."];
        }
        if (request.Models is not null || request.BaseModelId is not null)
        {
            errors["models"] = ["'models' and 'base_model_id' are for merge jobs only."];
        }
    }

    /// <summary>Each merge method states how many <c>models</c> it takes and whether it needs a base (<see cref="IMergeOptions"/>).</summary>
    private static void CheckMergeModels(CreateJobRequest request, MethodDescriptor? method, object? options, Dictionary<string, string[]> errors)
    {
        if (request.ModelId is not null)
        {
            errors["model_id"] = ["merge takes 'models' and 'base_model_id', not 'model_id'."];
        }
        var rule = (options ?? (method is null ? null : Activator.CreateInstance(method.OptionsType))) is IMergeOptions merge
            ? merge.Inputs
            : new MergeInputRule(2, 64, MergeBase.Forbidden, "merge needs at least two 'models'");
        var count = request.Models?.Count ?? 0;
        if (count < rule.MinModels || count > rule.MaxModels || (request.Models?.Any(m => string.IsNullOrEmpty(m.ModelId)) ?? false))
        {
            errors["models"] = [rule.MaxModels == 0
                ? $"{rule.Describe}."
                : $"{rule.Describe}: {rule.MinModels}-{rule.MaxModels} {{model_id, weight}} entries, each with a model_id."];
        }
        else if (request.Models?.Any(m => !double.IsFinite(m.Weight)) ?? false)
        {
            errors["models"] = ["Every weight must be a finite number."];
        }
        if (rule.Base == MergeBase.Required && string.IsNullOrEmpty(request.BaseModelId))
        {
            errors["base_model_id"] = [$"{rule.Describe}; base_model_id is required."];
        }
        else if (rule.Base == MergeBase.Forbidden && request.BaseModelId is not null)
        {
            errors["base_model_id"] = [$"{rule.Describe}; remove base_model_id."];
        }
    }

    private static EvaluationSpec? BindEvaluation(JsonElement? evaluation, Dictionary<string, string[]> errors)
    {
        if (evaluation is null || evaluation.Value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (evaluation.Value.ValueKind != JsonValueKind.Object)
        {
            errors["evaluation"] = ["evaluation must be a JSON object."];
            return null;
        }
        EvaluationSpec? spec;
        try
        {
            spec = evaluation.Value.Deserialize<EvaluationSpec>(OptimizerJson.Strict);
        }
        catch (JsonException ex)
        {
            var path = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "" : ex.Path.TrimStart('$');
            var cut = ex.Message.IndexOf(" Path:", StringComparison.Ordinal);
            errors["evaluation" + path] = [cut > 0 ? ex.Message[..cut] : ex.Message];
            return null;
        }
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(spec!, new ValidationContext(spec!), results, validateAllProperties: true);
        results.AddRange(spec!.Rubric?.Validate() ?? []);
        foreach (var result in results)
        {
            foreach (var member in result.MemberNames.DefaultIfEmpty(""))
            {
                var key = member.Length == 0 ? "evaluation" : "evaluation." + string.Join('.', member.Split('.').Select(JsonNamingPolicy.SnakeCaseLower.ConvertName));
                errors[key] = [.. errors.GetValueOrDefault(key, []), result.ErrorMessage ?? "invalid"];
            }
        }
        return results.Count == 0 ? spec : null;
    }

    private static void CheckNotify(IReadOnlyList<string>? notify, Dictionary<string, string[]> errors)
    {
        if (notify is null)
        {
            return;
        }
        if (notify.Count > MaxNotifyUrls)
        {
            errors["notify"] = [$"At most {MaxNotifyUrls} notify URLs."];
            return;
        }
        for (var i = 0; i < notify.Count; i++)
        {
            if (!Uri.TryCreate(notify[i], UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                errors[$"notify[{i}]"] = ["Must be an absolute http or https URL."];
            }
        }
    }
}
