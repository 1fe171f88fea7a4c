using FeatureAug.Bench;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: featureaug-bench accuracy|speed|scaling [--option value ...]");
    return 2;
}
var options = new Args(args.Skip(1));
return args[0] switch
{
    "accuracy" => await Accuracy.RunAsync(options),
    "accuracy-report" => AccuracyReport.Rerender(options),
    "speed" => await Speed.RunAsync(options),
    "scaling" => await Scaling.RunAsync(options),
    _ => throw new ArgumentException($"Unknown benchmark '{args[0]}'."),
};
