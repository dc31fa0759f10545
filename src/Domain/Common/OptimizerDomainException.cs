namespace Optimizer.Domain.Common;

/// <summary>An illegal state change or rule violation inside the domain (mapped to 409 by the Api).</summary>
public sealed class OptimizerDomainException(string message) : Exception(message);
