using Microsoft.Extensions.Options;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Routing;

namespace Optimizer.Api.Extensions;

/// <summary>
/// Fails the start (with <c>ValidateOnStart</c>) on a malformed <c>Optimizer:MethodQueues</c> or one naming a method the
/// catalog does not have, so a typo is a start-up error rather than jobs silently left on the wrong queue.
/// </summary>
internal sealed class MethodQueuesValidation : IValidateOptions<OptimizerOptions>
{
    public ValidateOptionsResult Validate(string? name, OptimizerOptions options)
    {
        try
        {
            MethodQueueRoutes.Parse(options.MethodQueues, MethodCatalog.All);
            return ValidateOptionsResult.Success;
        }
        catch (FormatException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }
}
