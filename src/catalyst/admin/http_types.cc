#include "catalyst/admin/http_types.h"

#include <algorithm>
#include <cctype>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace catalyst::admin {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

} // namespace

std::string_view toString(HttpMethod method) {
  switch (method) {
  case HttpMethod::Get:
    return "GET";
  case HttpMethod::Head:
    return "HEAD";
  case HttpMethod::Post:
    return "POST";
  case HttpMethod::Put:
    return "PUT";
  case HttpMethod::Delete:
    return "DELETE";
  case HttpMethod::Patch:
    return "PATCH";
  case HttpMethod::Options:
    return "OPTIONS";
  case HttpMethod::Other:
    return "OTHER";
  }
  return "OTHER";
}

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (equalsIgnoreCase(h.name, name)) {
      return std::string_view(h.value);
    }
  }
  return std::nullopt;
}

HttpResponse rawJsonResponse(int status, std::string json) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(json);
  return response;
}

HttpResponse jsonResponse(int status, const boost::json::value& value) {
  return rawJsonResponse(status, boost::json::serialize(value));
}

HttpResponse jsonError(int status, std::string_view message) {
  boost::json::object body;
  body["error"] = message;
  return rawJsonResponse(status, boost::json::serialize(body));
}

HttpResponse textResponse(int status, std::string body, std::string content_type) {
  HttpResponse response;
  response.status = status;
  response.content_type = std::move(content_type);
  response.body = std::move(body);
  return response;
}

} // namespace catalyst::admin
