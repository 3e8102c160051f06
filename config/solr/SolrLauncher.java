// Starts a real Apache Solr 9 (the same CoreContainer and SolrDispatchFilter as the binary
// distribution) from the jars Maven resolved, without a tarball or Docker.
//
// Usage: java -cp 'lib/*' SolrLauncher.java SOLR_HOME PORT
// Exits non-zero, naming the cause, when the port is taken or a core fails to load:
// Solr itself only logs core failures and keeps serving, which would hide a broken schema.
import java.nio.file.Path;
import java.util.Map;

import org.apache.solr.core.CoreContainer;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

public class SolrLauncher {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: SolrLauncher SOLR_HOME PORT");
            System.exit(2);
        }
        String solrHome = Path.of(args[0]).toAbsolutePath().toString();
        int port = Integer.parseInt(args[1]);

        JettyConfig config = JettyConfig.builder().setContext("/solr").setPort(port).stopAtShutdown(true).build();
        JettySolrRunner runner = new JettySolrRunner(solrHome, config);
        try {
            runner.start();
        } catch (Exception e) {
            System.err.println("FATAL: Solr could not start on 127.0.0.1:" + port + ": " + rootCause(e));
            System.exit(1);
        }

        CoreContainer cores = runner.getCoreContainer();
        Map<String, CoreContainer.CoreLoadFailure> failures = cores.getCoreInitFailures();
        if (!failures.isEmpty()) {
            failures.forEach((name, failure) ->
                System.err.println("FATAL: Solr core '" + name + "' failed to load: " + rootCause(failure.exception)));
            runner.stop();
            System.exit(1);
        }
        System.out.println("READY: Solr on http://127.0.0.1:"
                + port + "/solr with cores " + cores.getLoadedCoreNames());
        Thread.currentThread().join();  // serve until SIGTERM; stopAtShutdown stops Jetty cleanly
    }

    private static String rootCause(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }
}
