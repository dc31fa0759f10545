using Microsoft.Extensions.Configuration.Memory;

namespace Optimizer.Api.Extensions;

/// <summary>Log levels the Api uses unless configuration (<c>Logging:LogLevel:…</c>, e.g. an environment variable) says otherwise.</summary>
public static class LoggingDefaults
{
    /// <remarks>
    /// Without them every request logged about twenty Information lines (EF Core's SQL commands, ASP.NET Core's request
    /// and endpoint messages); under load that cost the Api CPU on each request and, once the console logger's queue
    /// filled, blocked request threads on logging. Warnings and errors of both still show.
    /// </remarks>
    private static readonly Dictionary<string, string?> Levels = new()
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
    };

    /// <summary>Adds the defaults as the configuration source of lowest precedence.</summary>
    public static IHostApplicationBuilder AddLoggingDefaults(this IHostApplicationBuilder builder)
    {
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = Levels });
        return builder;
    }
}
