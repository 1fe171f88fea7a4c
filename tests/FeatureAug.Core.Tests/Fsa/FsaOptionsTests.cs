using FeatureAug.Core.Fsa;

namespace FeatureAug.Core.Tests.Fsa;

public class FsaOptionsTests
{
    [Fact]
    public void DefaultsFollowTheSpec()
    {
        var options = new FsaOptions();
        Assert.Equal(0.8, options.TauS);
        Assert.Equal(0.2, options.TauG);
        Assert.Equal(0.9, options.HeadRatio);
        Assert.Equal(3, options.Na);
        Assert.Null(options.Nf);
        Assert.Equal(3, options.EffectiveNf(10));
        Assert.Equal(new[] { 0.001, 0.01, 0.1 }, options.LearningRateGrid);
        Assert.Equal(0.1, options.CrtReinitLearningRate);
        Assert.Equal(1.0, options.LogitAdjustTau);
        Assert.Equal(16, options.Nt);
        Assert.Equal(6400, options.FineTuneIterations);
        Assert.Equal(0.001, options.FineTuneLearningRate);
        Assert.Equal(0.9, options.FineTuneMomentum);
        Assert.Equal(1.0, options.TauNorm);
        Assert.Equal(0, options.Views);
        Assert.False(options.ConfusingHeadOnly);
        Assert.False(options.StoreMapsAsHalf);
        Assert.Equal(128, options.BatchSize);
        Assert.Empty(options.Problems(10));
    }

    [Theory]
    [InlineData("tau_s", "tauS", "must lie in (0, 1), got 1.")]
    [InlineData("tau_s0", "tauS", "must lie in (0, 1), got 0.")]
    [InlineData("tau_g", "tauG", "must lie in (0, 1), got 0.")]
    [InlineData("order", "tauG", "must not exceed tau_s (0.5), got 0.6.")]
    [InlineData("head", "headRatio", "must lie in (0, 1], got 1.5.")]
    [InlineData("head0", "headRatio", "must lie in (0, 1], got 0.")]
    [InlineData("na", "na", "must be at least 1, got 0.")]
    [InlineData("nf", "nf", "must be at least 1, got 0.")]
    [InlineData("nfclasses", "nf", "must be below the class count 10, got 10.")]
    [InlineData("nt", "nt", "must be at least 1, got 0.")]
    [InlineData("iterations", "fineTuneIterations", "must be at least 1, got 0.")]
    [InlineData("lr", "fineTuneLearningRate", "must be a positive number, got 0.")]
    [InlineData("momentum", "fineTuneMomentum", "must lie in [0, 1), got 1.")]
    [InlineData("taunorm", "tauNorm", "must be a finite number >= 0, got -1.")]
    [InlineData("views", "views", "must be 0 or more, got -1.")]
    [InlineData("headSampling", "headSampling", "must be uniform or classBalanced, got 5.")]
    [InlineData("tailSampling", "tailSampling", "must be uniform or classBalanced, got 5.")]
    public void EachViolationHasItsOwnMessage(string violation, string field, string message)
    {
        var options = violation switch
        {
            "tau_s" => new FsaOptions { TauS = 1.0 },
            "tau_s0" => new FsaOptions { TauS = 0.0 },
            "tau_g" => new FsaOptions { TauG = 0.0 },
            "order" => new FsaOptions { TauS = 0.5, TauG = 0.6 },
            "head" => new FsaOptions { HeadRatio = 1.5 },
            "head0" => new FsaOptions { HeadRatio = 0 },
            "na" => new FsaOptions { Na = 0 },
            "nf" => new FsaOptions { Nf = 0 },
            "nfclasses" => new FsaOptions { Nf = 10 },
            "nt" => new FsaOptions { Nt = 0 },
            "iterations" => new FsaOptions { FineTuneIterations = 0 },
            "lr" => new FsaOptions { FineTuneLearningRate = 0 },
            "momentum" => new FsaOptions { FineTuneMomentum = 1 },
            "taunorm" => new FsaOptions { TauNorm = -1 },
            "views" => new FsaOptions { Views = -1 },
            "headSampling" => new FsaOptions { HeadSampling = (GroupSampling)5 },
            "tailSampling" => new FsaOptions { TailSampling = (GroupSampling)5 },
            _ => throw new ArgumentException(violation),
        };
        var problems = options.Problems(10);
        Assert.Contains(new OptionProblem(field, message), problems);
        // Messages are for any front end: no CLI flag, no property name.
        Assert.All(problems, p => Assert.DoesNotContain("--", p.Message));
        var thrown = Assert.Throws<ArgumentException>(() => options.Validate(10));
        Assert.Contains($"FsaOptions.{char.ToUpperInvariant(field[0])}{field[1..]}: {message}", thrown.Message);
    }

    [Fact]
    public void TheExactViolationsAreListed()
    {
        var options = new FsaOptions { TauS = 0.3, TauG = 0.4, Na = 0, Views = -2 };
        Assert.Equal(new[]
        {
            new OptionProblem("tauG", "must not exceed tau_s (0.3), got 0.4."),
            new OptionProblem("na", "must be at least 1, got 0."),
            new OptionProblem("views", "must be 0 or more, got -2."),
        }, options.Problems(10));
        Assert.Equal(string.Join(Environment.NewLine,
                "FsaOptions.TauG: must not exceed tau_s (0.3), got 0.4.", "FsaOptions.Na: must be at least 1, got 0.", "FsaOptions.Views: must be 0 or more, got -2."),
            Assert.Throws<ArgumentException>(() => options.Validate(10)).Message);
    }

    [Fact]
    public void EveryFieldIsTheCamelCaseNameOfAProperty()
    {
        var options = new FsaOptions
        {
            TauS = 2, TauG = 3, HeadRatio = 0, Na = 0, Nf = 0, Nt = 0, FineTuneIterations = 0, FineTuneLearningRate = 0,
            FineTuneMomentum = 1, TauNorm = -1, Views = -1, HeadSampling = (GroupSampling)5, TailSampling = (GroupSampling)5,
        };
        var properties = typeof(FsaOptions).GetProperties().Select(p => char.ToLowerInvariant(p.Name[0]) + p.Name[1..]).ToHashSet();
        var fields = options.Problems(10).Select(p => p.Field).ToList();
        Assert.All(fields, field => Assert.Contains(field, properties));
        Assert.Equal(13, fields.Distinct().Count());
    }

    [Fact]
    public void EqualThresholdsAreAllowed()
    {
        Assert.Empty(new FsaOptions { TauS = 0.5, TauG = 0.5 }.Problems(4));
        Assert.Empty(new FsaOptions { HeadRatio = 1.0, Nf = 3 }.Problems(4));
    }
}
