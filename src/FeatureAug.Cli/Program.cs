using System.CommandLine;
using FeatureAug.Cli;

return await FeatureAugCli.InvokeAsync(args);
