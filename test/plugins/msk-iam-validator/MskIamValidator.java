/*
 * A broker-side OAUTHBEARER validator for MSK IAM tokens, for tests only: it does what MSK's
 * brokers do with the token's signature, for access keys it knows (JAAS options
 * `secret_<ACCESS_KEY_ID>="<secret>"`, as AWS knows them). It checks the presigned URL (host
 * kafka.<region>.amazonaws.com, Action=kafka-cluster:Connect, SigV4 over `host` with the empty
 * payload's hash), that X-Amz-Date + X-Amz-Expires has not passed, and grants a session until
 * then; the principal is the access key id. It does not check IAM policies. Temporary credentials
 * die with their session token: AWS knows when; here the test's session tokens say it
 * (`expires-<epoch ms>`), and the session ends then if that is sooner. Each decision is printed.
 */
package klink.test;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.*;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerExtensionsValidatorCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;

public class MskIamValidator implements AuthenticateCallbackHandler {
  private final Map<String, String> secrets = new HashMap<>();

  @Override
  public void configure(Map<String, ?> configs, String mechanism, List<AppConfigurationEntry> jaas) {
    for (AppConfigurationEntry e : jaas)
      for (Map.Entry<String, ?> o : e.getOptions().entrySet())
        if (o.getKey().startsWith("secret_")) secrets.put(o.getKey().substring(7), String.valueOf(o.getValue()));
  }

  @Override
  public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
    for (Callback cb : callbacks) {
      if (cb instanceof OAuthBearerValidatorCallback) {
        OAuthBearerValidatorCallback v = (OAuthBearerValidatorCallback) cb;
        try {
          v.token(validate(v.tokenValue()));
        } catch (Exception e) {
          System.err.println("MskIamValidator: refused: " + e.getMessage());
          v.error("invalid_token", null, null);
        }
      } else if (cb instanceof OAuthBearerExtensionsValidatorCallback) {
        OAuthBearerExtensionsValidatorCallback x = (OAuthBearerExtensionsValidatorCallback) cb;
        x.inputExtensions().map().keySet().forEach(x::valid);
      } else {
        throw new UnsupportedCallbackException(cb);
      }
    }
  }

  private OAuthBearerToken validate(String token) throws Exception {
    URI url = URI.create(new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8));
    String host = url.getHost();
    if (!"https".equals(url.getScheme()) || host == null || !host.matches("kafka\\.[a-z0-9-]+\\.amazonaws\\.com")) throw new Exception("not an MSK URL: " + host);
    List<String> signed = new ArrayList<>();
    Map<String, String> p = new HashMap<>();
    for (String pair : url.getRawQuery().split("&")) {
      String key = pair.substring(0, pair.indexOf('='));
      p.put(key, URLDecoder.decode(pair.substring(pair.indexOf('=') + 1), StandardCharsets.UTF_8));
      if (!key.equals("X-Amz-Signature") && !key.equals("User-Agent")) signed.add(pair);
    }
    if (!"kafka-cluster:Connect".equals(p.get("Action"))) throw new Exception("Action is " + p.get("Action"));
    String[] scope = p.get("X-Amz-Credential").split("/");
    String region = host.split("\\.")[1];
    if (!scope[2].equals(region) || !scope[3].equals("kafka-cluster")) throw new Exception("scope " + p.get("X-Amz-Credential"));
    String secret = secrets.get(scope[0]);
    if (secret == null) throw new Exception("unknown access key " + scope[0]);
    String date = p.get("X-Amz-Date");
    long signedAt = LocalDateTime.parse(date, DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")).toEpochSecond(ZoneOffset.UTC) * 1000;
    long expiresAt = signedAt + Long.parseLong(p.get("X-Amz-Expires")) * 1000;
    long now = System.currentTimeMillis();
    if (now > expiresAt) throw new Exception("expired " + (now - expiresAt) + " ms ago");
    if (signedAt > now + 300_000) throw new Exception("signed in the future");
    Collections.sort(signed);
    String canonical = String.join("\n", "GET", url.getRawPath(), String.join("&", signed), "host:" + host + "\n", "host", hex(sha256("")));
    String toSign = String.join("\n", "AWS4-HMAC-SHA256", date, String.join("/", Arrays.copyOfRange(scope, 1, 5)), hex(sha256(canonical)));
    byte[] key = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), scope[1]);
    for (String part : new String[] {scope[2], scope[3], "aws4_request"}) key = hmac(key, part);
    if (!MessageDigest.isEqual(hex(hmac(key, toSign)).getBytes(), p.get("X-Amz-Signature").getBytes())) throw new Exception("signature does not match");
    String session = p.get("X-Amz-Security-Token");
    if (session != null && session.matches("expires-\\d+")) {
      long sessionEnds = Long.parseLong(session.substring(8));
      if (now > sessionEnds) throw new Exception("the session token expired " + (now - sessionEnds) + " ms ago");
      expiresAt = Math.min(expiresAt, sessionEnds);
    }
    String principal = scope[0];
    long lifetime = expiresAt;
    System.err.println("MskIamValidator: accepted " + principal + " session " + session + " token " + hex(sha256(token)).substring(0, 12));
    return new OAuthBearerToken() {
      public String value() { return token; }
      public Set<String> scope() { return Collections.emptySet(); }
      public long lifetimeMs() { return lifetime; }
      public String principalName() { return principal; }
      public Long startTimeMs() { return signedAt; }
    };
  }

  private static byte[] sha256(String s) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] hmac(byte[] key, String data) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
  }

  private static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) s.append(String.format("%02x", x));
    return s.toString();
  }

  @Override
  public void close() {}
}
