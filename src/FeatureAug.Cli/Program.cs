Console.WriteLine("featureaug");
