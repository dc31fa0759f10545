using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Optimizer.Api.Tests.Infrastructure;

/// <summary>The host with <c>Optimizer:MethodQueues</c> routing RTN and every prune method to the gpu queue.</summary>
public sealed class RoutedQueuesFixture : ApiFixture
{
    public const string Routes = "quantize/rtn=gpu, prune/*=gpu";

    /// <summary>Warning-level entries the host logged.</summary>
    public ConcurrentQueue<string> Warnings { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Optimizer:MethodQueues", Routes);
        builder.ConfigureLogging(logging => logging.AddProvider(new WarningLog(Warnings)));
    }

    private sealed class WarningLog(ConcurrentQueue<string> entries) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel == LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                entries.Enqueue(formatter(state, exception));
            }
        }

        public void Dispose()
        {
        }
    }
}

/// <summary>A host whose routing names a method that does not exist: it must refuse to start.</summary>
public sealed class UnknownMethodRouteFixture : ApiFixture
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Optimizer:MethodQueues", "finetune/lorax=gpu");
    }
}
