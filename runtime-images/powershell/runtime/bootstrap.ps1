# Gantry's PowerShell runtime client: the Lambda Runtime API at $env:AWS_LAMBDA_RUNTIME_API (served
# by gantry-relay). Handler forms, as AWS's PowerShell runtime: `script.ps1` (the script runs per
# invocation with $LambdaInput and $LambdaContext), `script.ps1::Function` (the script runs once at
# init, then Function is called per invocation with -LambdaInput and -LambdaContext), and
# `Module::Name::Function` (Import-Module Name once, then Function). The output is the result: a
# string as it is, anything else as JSON. Errors: errorType the exception's class name.
$ErrorActionPreference = 'Stop'
$api = "http://$($env:AWS_LAMBDA_RUNTIME_API)/2018-06-01/runtime"
$http = [System.Net.Http.HttpClient]::new()
$http.Timeout = [System.Threading.Timeout]::InfiniteTimeSpan
$taskRoot = if ($env:LAMBDA_TASK_ROOT) { $env:LAMBDA_TASK_ROOT } else { '/var/task' }

function Send-Json([string] $path, [string] $body, [string] $errorType) {
    $content = [System.Net.Http.StringContent]::new($body, [System.Text.Encoding]::UTF8, 'application/json')
    $request = [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::Post, "$api/$path")
    $request.Content = $content
    if ($errorType) { $request.Headers.Add('Lambda-Runtime-Function-Error-Type', $errorType) }
    $response = $http.Send($request)
    if ([int]$response.StatusCode -ge 500) { throw "POST $path answered $([int]$response.StatusCode)" }
}

function ConvertTo-ErrorDocument($record) {
    $e = $record.Exception
    @{ errorType = $e.GetType().Name; errorMessage = $e.Message; stackTrace = @("$($record.ScriptStackTrace)" -split "`n" | Where-Object { $_ }) } |
        ConvertTo-Json -Compress -Depth 4
}

$mode = $null; $script = $null; $function = $null
try {
    $parts = $env:_HANDLER -split '::'
    if ($parts.Count -eq 1 -and $parts[0] -like '*.ps1') {
        $mode = 'script'; $script = Join-Path $taskRoot $parts[0]
        if (-not (Test-Path -LiteralPath $script -PathType Leaf)) { throw [System.IO.FileNotFoundException]::new("Could not find script '$($parts[0])'.") }
    } elseif ($parts.Count -eq 2 -and $parts[0] -like '*.ps1') {
        $mode = 'function'; $function = $parts[1]
        . (Join-Path $taskRoot $parts[0])
    } elseif ($parts.Count -eq 3 -and $parts[0] -eq 'Module') {
        $mode = 'function'; $function = $parts[2]
        $env:PSModulePath = "$taskRoot/modules:$taskRoot:$($env:PSModulePath)"
        Import-Module $parts[1]
    } else {
        throw [System.ArgumentException]::new("Invalid handler '$($env:_HANDLER)': use script.ps1, script.ps1::Function or Module::Name::Function.")
    }
    if ($mode -eq 'function' -and -not (Get-Command $function -CommandType Function -ErrorAction SilentlyContinue)) {
        throw [System.Management.Automation.CommandNotFoundException]::new("The function '$function' was not found.")
    }
} catch {
    [Console]::Error.WriteLine($_.ToString())
    Send-Json 'init/error' (ConvertTo-ErrorDocument $_) $_.Exception.GetType().Name
    exit 1
}

while ($true) {
    $next = $http.GetAsync("$api/invocation/next").GetAwaiter().GetResult()
    if ([int]$next.StatusCode -ne 200) { [Console]::Error.WriteLine("next answered $([int]$next.StatusCode)"); exit 1 }
    $requestId = ($next.Headers.GetValues('Lambda-Runtime-Aws-Request-Id') | Select-Object -First 1)
    $deadline = [long]($next.Headers.GetValues('Lambda-Runtime-Deadline-Ms') | Select-Object -First 1)
    $arn = ($next.Headers.GetValues('Lambda-Runtime-Invoked-Function-Arn') | Select-Object -First 1)
    $body = $next.Content.ReadAsStringAsync().GetAwaiter().GetResult()
    $LambdaInput = if ($body) { $body | ConvertFrom-Json } else { $null }
    $LambdaContext = [pscustomobject]@{
        AwsRequestId = $requestId; FunctionName = $env:AWS_LAMBDA_FUNCTION_NAME; FunctionVersion = $env:AWS_LAMBDA_FUNCTION_VERSION
        InvokedFunctionArn = $arn; MemoryLimitInMB = [int]$env:AWS_LAMBDA_FUNCTION_MEMORY_SIZE
        LogGroupName = $env:AWS_LAMBDA_LOG_GROUP_NAME; LogStreamName = $env:AWS_LAMBDA_LOG_STREAM_NAME
    }
    $LambdaContext | Add-Member -MemberType ScriptMethod -Name GetRemainingTimeInMillis -Value ([scriptblock]::Create("[math]::Max(0, $deadline - [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds())"))
    try {
        $output = if ($mode -eq 'script') { & $script } else { & $function -LambdaInput $LambdaInput -LambdaContext $LambdaContext }
        $result = @($output) | Select-Object -Last 1
        $text = if ($result -is [string]) { $result } else { ConvertTo-Json -InputObject $result -Compress -Depth 10 }
        Send-Json "invocation/$requestId/response" $text $null
    } catch {
        [Console]::Error.WriteLine($_.ToString())
        Send-Json "invocation/$requestId/error" (ConvertTo-ErrorDocument $_) $_.Exception.GetType().Name
    }
}
