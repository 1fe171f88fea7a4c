using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace FeatureAug.Testing;

/// <summary>
/// Writes log lines into the test's output, so a failing engine test shows what the engine saw, and
/// keeps them so a test can assert that something was (or was not) logged.
/// </summary>
public sealed class TestOutputLoggerProvider(ITestOutputHelper output) : ILoggerProvider
{
    private readonly ITestOutputHelper output = output;
    private readonly ConcurrentQueue<string> lines = new();

    public IReadOnlyCollection<string> Lines => lines.ToArray();

    public static ILoggerFactory CreateFactory(ITestOutputHelper output, LogLevel minimumLevel = LogLevel.Warning) =>
        new TestOutputLoggerProvider(output).CreateFactory(minimumLevel);

    public ILoggerFactory CreateFactory(LogLevel minimumLevel = LogLevel.Warning) =>
        LoggerFactory.Create(builder => builder.SetMinimumLevel(minimumLevel).AddProvider(this));

    public ILogger CreateLogger(string categoryName) => new TestOutputLogger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class TestOutputLogger(TestOutputLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string line = $"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}";
            provider.lines.Enqueue(line);
            try
            {
                provider.output.WriteLine(exception is null ? line : line + Environment.NewLine + exception);
            }
            catch (InvalidOperationException)
            {
                // Background work logging after its test finished; xunit no longer accepts output.
            }
        }
    }
}
