using Microsoft.Extensions.Options;
using Vmtrace.InfluxDb;
using Vmtrace.Kafka;

namespace Vmtrace.Worker;

/// <summary>Start-time checks of the worker's options: every problem is listed, each naming its setting.</summary>
internal sealed class WorkerOptionsValidation : IValidateOptions<WorkerOptions>, IValidateOptions<KafkaOptions>, IValidateOptions<InfluxOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkerOptions options) => Result(options.Problems());

    public ValidateOptionsResult Validate(string? name, KafkaOptions options) => Result(options.Problems());

    public ValidateOptionsResult Validate(string? name, InfluxOptions options)
    {
        try
        {
            // InfluxClient checks its options when built (InfluxOptions.Validate is internal to Vmtrace.InfluxDb).
            using var probe = new InfluxClient(options);
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail("Influx: " + ex.Message);
        }
    }

    private static ValidateOptionsResult Result(IEnumerable<string> problems)
    {
        var list = problems.ToList();
        return list.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(list);
    }
}
