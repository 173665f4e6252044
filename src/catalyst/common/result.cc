#include "catalyst/common/result.h"

#include <stdexcept>

namespace boost::system {

void throw_exception_from_error(const catalyst::Error& e, const boost::source_location& loc) {
  throw std::logic_error(std::string(loc.file_name()) + ":" + std::to_string(loc.line()) +
                         ": value() on an error result: " + e.message);
}

} // namespace boost::system
